// Monitoring: `monitorDeployment` over 1,000,000 served rows × 64 features, from the server's
// window aggregates (goal < 1 s), against the floor of only parsing those aggregates; and the model
// server's per-request logging cost (goal < 0.5 ms p50), inside the server and end to end with
// monitoring on vs off in the same run. Run alone: node bench/monitor.bench.ts [--quick]
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { monitorDeployment } from '../src/core/monitor/monitor.ts';
import { pythonDir } from '../src/core/paths.ts';
import { Registry } from '../src/core/registry/registry.ts';
import { Store } from '../src/core/store/store.ts';

const PYTHON = '/usr/bin/python3';
const FEATURES = 64;
const FINE = 40;

export interface MonitorBench {
  monitorRows: number;
  monitorFeatures: number;
  monitorReportMs: number;
  monitorParseFloorMs: number;
  monitorLoggingP50Ms: number;
  monitorRequestP50OnMs: number;
  monitorRequestP50OffMs: number;
  monitorRequestOverheadP50Ms: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** A seeded generator, so every run measures the same data. */
function generator(seed: number): () => number {
  let s = seed;
  return () => (s = (s * 48271) % 2147483647) / 2147483647;
}

/**
 * The files the server would leave after `windows` windows of `rowsPerWindow` rows, written
 * directly in its format: a profile with 40 quantile bins per feature, one line per window.
 */
function writeMonitorFolder(dir: string, windows: number, rowsPerWindow: number): void {
  const random = generator(42);
  const edges = Array.from({ length: FINE - 1 }, (_, k) => -2 + (4 * (k + 1)) / FINE);
  const features = Array.from({ length: FEATURES }, (_, j) => ({
    name: `f${j}`, kind: 'numeric', edges, coarse: edges.filter((_, k) => (k + 1) % 4 === 0), reference: new Array(FINE).fill(250), min: -3, max: 3, missing: 0,
  }));
  const profile = { format: 'runboard.monitor-profile/1', source: 'training', rows: 10_000, createdAt: Date.now(), baselineRows: null, lastBaselineId: null, task: 'classification', features, prediction: { kind: 'classes', labels: ['0', '1'], reference: [5000, 5000] } };
  writeFileSync(join(dir, 'profile.json'), JSON.stringify(profile));
  const lines: string[] = [];
  const start = Date.now() - windows * 60_000;
  for (let w = 0; w < windows; w++) {
    const feats = features.map(() => {
      const bins = new Array<number>(FINE).fill(0);
      for (let i = 0; i < rowsPerWindow; i += 10) bins[Math.floor(random() * FINE)]! += 10;
      return [rowsPerWindow, 0, Math.floor(random() * 3), -3.1, 3.2, bins];
    });
    const ones = Math.floor(rowsPerWindow * (0.45 + random() * 0.1));
    lines.push(JSON.stringify({
      index: w, from: start + w * 60_000, to: start + (w + 1) * 60_000 - 1, firstId: w * rowsPerWindow + 1, lastId: (w + 1) * rowsPerWindow,
      rows: rowsPerWindow, requests: rowsPerWindow / 10, errors: 0, latency: { 100: rowsPerWindow / 20, 110: rowsPerWindow / 20 }, features: feats, prediction: { 0: rowsPerWindow - ones, 1: ones },
    }));
  }
  writeFileSync(join(dir, 'windows.jsonl'), `${lines.join('\n')}\n`);
  writeFileSync(join(dir, 'rows.jsonl'), '');
  writeFileSync(join(dir, 'feedback.jsonl'), '');
}

/** A store with one deployment whose monitoring folder is `monitorDir`. */
function deploymentStore(workspace: string, monitorDir: string): { store: Store; id: number } {
  mkdirSync(join(workspace, '.runboard'), { recursive: true });
  const store = Store.open(join(workspace, '.runboard', 'runboard.db'));
  writeFileSync(join(workspace, 'model.bin'), 'bench');
  const version = new Registry(store, workspace).register({ name: 'bench', file: join(workspace, 'model.bin') });
  const id = store.deployments.create({ modelVersionId: version.id, target: 'local', port: null, config: '{}', forced: null, replacesId: null, createdAt: Date.now() }, () => monitorDir);
  store.deployments.recordOutcome(id, { status: 'stopped', url: null, port: null, pid: null, config: JSON.stringify({ monitorDir }), error: null });
  return { store, id };
}

/** Per-call cost of the server's logging (record_rows + record_request + the request log line), inside Python. */
function loggingCostInServer(dir: string, calls: number): number {
  const code = `
import json, sys, time
sys.path.insert(0, sys.argv[1])
from runboard_server import monitoring, server
import random
random.seed(1)
names = ["f%d" % j for j in range(${FEATURES})]
rows = [[random.gauss(0, 1) for _ in names] for _ in range(2000)]
monitor = monitoring.Monitor(sys.argv[2], reference=(names, rows), predict=lambda rs: [int(r[0] > 0) for r in rs])
log = server.RequestLog(sys.argv[3], 16 * 1024 * 1024)
costs = []
for i in range(${calls}):
    row = [random.gauss(0, 1) for _ in names]
    started = time.perf_counter()
    monitor.record_rows([row], [int(row[0] > 0)], [[0.4, 0.6]])
    window = monitor.record_request(0.5, True)
    log.write({"time": 0, "method": "POST", "path": "/predict", "status": 200, "latency_ms": 0.5, "batch": 1, "window": window, "inputs": [row]})
    costs.append(time.perf_counter() - started)
costs.sort()
print(json.dumps(costs[len(costs) // 2] * 1000))
`;
  mkdirSync(join(dir, 'inproc'), { recursive: true });
  const out = spawnSync(PYTHON, ['-c', code, pythonDir(), join(dir, 'inproc'), join(dir, 'inproc', 'requests.jsonl')], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(out.stderr);
  return Number(out.stdout.trim());
}

async function startServer(dir: string, model: string, args: string[]): Promise<{ port: number; stop(): void }> {
  const server = spawn(PYTHON, ['-m', 'runboard_server.server', '--model', model, '--name', 'bench', '--version', '1', ...args], {
    cwd: dir,
    env: { ...process.env, PYTHONPATH: `${dir}:${pythonDir()}`, RUNBOARD_SERVER_TOKEN: 'bench' },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  for await (const line of createInterface({ input: server.stdout })) {
    const event = JSON.parse(line);
    if (event.event === 'listening') return { port: event.port, stop: () => server.kill('SIGKILL') };
    if (event.event === 'error') throw new Error(event.message);
  }
  throw new Error('the server exited before listening');
}

/** p50 of request latency (ms) to two servers, monitoring on and off, in alternating blocks. */
async function requestLatency(dir: string, requests: number): Promise<{ on: number; off: number }> {
  writeFileSync(join(dir, 'benchmodel.py'), 'class Sign:\n    def predict(self, rows):\n        return [int(r[0] > 0) for r in rows]\n');
  const made = spawnSync(PYTHON, ['-c', 'import pickle, benchmodel; pickle.dump(benchmodel.Sign(), open("model.pkl", "wb"))'], { cwd: dir, env: { ...process.env, PYTHONPATH: dir } });
  if (made.status !== 0) throw new Error(String(made.stderr));
  const random = generator(7);
  const names = Array.from({ length: FEATURES }, (_, j) => `f${j}`);
  const referenceRows = Array.from({ length: 2000 }, () => names.map(() => random() * 2 - 1));
  writeFileSync(join(dir, 'reference.json'), JSON.stringify({ features: names, rows: referenceRows }));
  mkdirSync(join(dir, 'monitor'));
  const model = join(dir, 'model.pkl');
  const on = await startServer(dir, model, ['--log', join(dir, 'requests.jsonl'), '--monitor-dir', join(dir, 'monitor'), '--reference', join(dir, 'reference.json')]);
  const off = await startServer(dir, model, []);
  const body = JSON.stringify({ instances: [names.map(() => random() * 2 - 1)] });
  const time = async (port: number) => {
    const started = performance.now();
    const res = await fetch(`http://127.0.0.1:${port}/predict`, { method: 'POST', headers: { authorization: 'Bearer bench' }, body });
    await res.arrayBuffer();
    return performance.now() - started;
  };
  const latencies = { on: [] as number[], off: [] as number[] };
  try {
    for (let i = 0; i < 50; i++) await Promise.all([time(on.port), time(off.port)]);
    for (let block = 0; block < requests / 100; block++) {
      for (const [which, server] of block % 2 ? ([['off', off], ['on', on]] as const) : ([['on', on], ['off', off]] as const)) {
        for (let i = 0; i < 100; i++) latencies[which].push(await time(server.port));
      }
    }
  } finally {
    on.stop();
    off.stop();
  }
  return { on: median(latencies.on), off: median(latencies.off) };
}

export async function benchMonitor(log: (line: string) => void, options: { windows?: number; requests?: number } = {}): Promise<MonitorBench> {
  const windows = options.windows ?? 1000;
  const rowsPerWindow = 1000;
  const dir = mkdtempSync(join(tmpdir(), 'runboard-monitor-bench-'));
  try {
    const monitorDir = join(dir, 'monitor');
    mkdirSync(monitorDir);
    writeMonitorFolder(monitorDir, windows, rowsPerWindow);
    const { store, id } = deploymentStore(join(dir, 'ws'), monitorDir);
    const reportMs: number[] = [];
    const parseMs: number[] = [];
    let rows = 0;
    try {
      for (let i = 0; i < 3; i++) {
        let started = performance.now();
        rows = monitorDeployment(store, id).window.rows;
        reportMs.push(performance.now() - started);
        started = performance.now();
        readFileSync(join(monitorDir, 'windows.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown);
        parseMs.push(performance.now() - started);
      }
    } finally {
      store.close();
    }
    const loggingP50 = loggingCostInServer(dir, 5000);
    mkdirSync(join(dir, 'serve'));
    const latency = await requestLatency(join(dir, 'serve'), options.requests ?? 2000);
    const result: MonitorBench = {
      monitorRows: rows,
      monitorFeatures: FEATURES,
      monitorReportMs: Math.round(median(reportMs)),
      monitorParseFloorMs: Math.round(median(parseMs)),
      monitorLoggingP50Ms: round3(loggingP50),
      monitorRequestP50OnMs: round3(latency.on),
      monitorRequestP50OffMs: round3(latency.off),
      monitorRequestOverheadP50Ms: round3(latency.on - latency.off),
    };
    log(
      `monitor: report over ${rows.toLocaleString('en-US')} rows × ${FEATURES} features in ${result.monitorReportMs} ms (goal < 1000; parsing the aggregates alone ${result.monitorParseFloorMs} ms, ×${(result.monitorReportMs / Math.max(1, result.monitorParseFloorMs)).toFixed(1)}); ` +
        `server logging ${result.monitorLoggingP50Ms} ms p50 per request of one 64-feature row (goal < 0.5), end to end p50 ${result.monitorRequestP50OnMs} ms on vs ${result.monitorRequestP50OffMs} ms off (${result.monitorRequestOverheadP50Ms >= 0 ? '+' : ''}${result.monitorRequestOverheadP50Ms} ms)`,
    );
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const quick = process.argv.includes('--quick');
  const result = await benchMonitor((line) => console.log(line), quick ? { windows: 200, requests: 400 } : {});
  console.log(JSON.stringify(result));
}
