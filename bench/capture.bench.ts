import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pythonDir } from '../src/core/paths.ts';
import { Store } from '../src/core/store/store.ts';
import { RunCapture } from '../src/core/tracking/capture.ts';

const LINES = 300_000;
const METRICS_PER_LINE = 2;

/**
 * End-to-end capture throughput (a Python process printing JSON metric lines, through RunCapture,
 * into a temporary store), and the Python client's overhead on a 10,000-steps/s loop.
 */
export async function benchCapture(): Promise<{ captureThroughputPointsPerSec: number; clientOverheadPct: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'runboard-bench-'));
  try {
    const store = Store.open(join(dir, 'runboard.db'));
    try {
      const captureThroughputPointsPerSec = await captureThroughput(store, join(dir, 'run'));
      const clientOverheadPct = await clientOverhead(join(dir, 'client-run'));
      return { captureThroughputPointsPerSec, clientOverheadPct };
    } finally {
      store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function captureThroughput(store: Store, runDir: string): Promise<number> {
  const run = store.createRun({ runDir });
  const script = `
import sys
write = sys.stdout.write
for i in range(${LINES}):
    write('{"step": %d, "loss": %r, "acc": %r}\\n' % (i, 1.0 / (i + 1), i * 1e-6))
`;
  const started = performance.now();
  const capture = new RunCapture(store, { runId: run.id, runDir });
  // Buffered output (whatever the caller's PYTHONUNBUFFERED): one write per line would measure
  // Python's system calls, not capture.
  const env = { ...process.env };
  delete env.PYTHONUNBUFFERED;
  const child = spawn('python3', ['-c', script], { cwd: runDir, env, stdio: ['ignore', 'pipe', 'inherit'] });
  child.stdout.on('data', (chunk: Buffer) => capture.stdout(chunk));
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve));
  await capture.close();
  const seconds = (performance.now() - started) / 1000;
  const stored = Object.values(store.summaries(run.id)).reduce((sum, s) => sum + s.count, 0);
  if (exitCode !== 0 || stored !== LINES * METRICS_PER_LINE) {
    throw new Error(`capture bench: exit ${exitCode}, ${stored} of ${LINES * METRICS_PER_LINE} points stored`);
  }
  return Math.round(stored / seconds);
}

/**
 * Same process, same loop body calibrated to 100 µs a step (10,000 steps/s), with and without one
 * runboard.log per step. Short blocks (50 steps) are paired, each pair adjacent in time with its
 * order alternated, so other processes' load and CPU frequency changes hit both halves alike; the
 * sums over 800 pairs are compared. Timed in process CPU time, which counts the client's flush
 * thread; every 5,000 logged steps (as at the one-second flush) the logging block flushes, so
 * that cost is charged to it.
 */
async function clientOverhead(runDir: string): Promise<number> {
  const script = `
import time, runboard

clock = time.process_time
STEP = 100e-6
BLOCK = 50

def body(n):
    x = 0
    for j in range(n):
        x += j
    return x

def calibrate():
    n = 100
    for attempt in range(30):
        t = clock()
        for _ in range(1000):
            body(n)
        per_step = (clock() - t) / 1000
        if abs(per_step - STEP) < STEP / 20:
            break
        n = max(1, int(n * STEP / max(per_step, 1e-7)))
    return n

def block(n, with_log, flush):
    t = clock()
    if with_log:
        for i in range(BLOCK):
            runboard.log(loss=body(n))
        if flush:
            runboard.flush()
    else:
        for i in range(BLOCK):
            body(n)
    return clock() - t

n = calibrate()
runboard.log(warmup=0.0)
with_log = without_log = 0.0
for pair in range(800):
    flush = pair % 100 == 99
    if pair % 2:
        without_log += block(n, False, False)
        with_log += block(n, True, flush)
    else:
        with_log += block(n, True, flush)
        without_log += block(n, False, False)
print((with_log - without_log) / without_log * 100)
`;
  const child = spawn('python3', ['-c', script], {
    env: { ...process.env, PYTHONPATH: pythonDir(), PYTHONDONTWRITEBYTECODE: '1', RUNBOARD_RUN_DIR: runDir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exitCode = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const pct = Number(output.trim());
  if (exitCode !== 0 || !Number.isFinite(pct)) throw new Error(`client overhead bench: exit ${exitCode}, output ${JSON.stringify(output)}`);
  return Math.round(pct * 100) / 100;
}
