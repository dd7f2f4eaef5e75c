// Team sync against the real `mlflow server` 2.12.2 (SQLite), where the MLflow peer is set up:
// `runboard push` of N points vs the real client's own log_batch of the same points to the same
// server in the same run (goal ≤ 1.5×), and `runboard pull` of a 100,000-point run (goal < 5 s).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Store } from '../src/core/store/store.ts';
import type { MetricPoint } from '../src/core/store/types.ts';
import { MlflowClient } from '../src/core/sync/client.ts';
import { pullRuns } from '../src/core/sync/pull.ts';
import { pushRuns } from '../src/core/sync/push.ts';
import { peerMissing, runPython, startRealMlflow } from '../test/peer/peer.ts';

const KEYS = 10;
const round = (x: number): number => Math.round(x * 100) / 100;

/** A run of `points` points over KEYS metrics, the same points bench/syncClient.py logs. */
function localRun(file: string, experiment: string, points: number) {
  const store = Store.open(file);
  const run = store.createRun({ experiment, name: `bench-${points}`, status: 'running' });
  const steps = points / KEYS;
  for (let k = 0; k < KEYS; k++) {
    for (let from = 0; from < steps; from += 100_000) {
      const chunk: MetricPoint[] = [];
      for (let step = from; step < Math.min(steps, from + 100_000); step++) chunk.push({ key: `m${k}`, step, value: step / steps, wall: 1_700_000_000_000 + step });
      store.logMetrics(run.id, chunk);
    }
  }
  store.markEnded(run.id, { status: 'finished' });
  return { store, run: store.run(run.id)! };
}

export async function benchSync(log: (line: string) => void, quick: boolean): Promise<Record<string, unknown>> {
  const missing = peerMissing();
  if (missing) {
    log(`sync: skipped: ${missing}`);
    return { syncPush: null, syncPull: null, syncReason: missing };
  }
  const points = quick ? 100_000 : 1_000_000;
  const pullPoints = 100_000;
  const dir = mkdtempSync(join(tmpdir(), 'runboard-bench-sync-'));
  const served = await startRealMlflow(join(dir, 'mlflow'));
  try {
    const client = new MlflowClient({ url: served.url });
    const python = await runPython(join(import.meta.dirname, 'syncClient.py'), served, { args: [String(points), String(KEYS)] });
    if (python.code !== 0) throw new Error(`syncClient.py failed: ${python.stderr.trim().split('\n').at(-1)}`);
    const clientSeconds = (python.report as { seconds: number }).seconds;

    const ours = localRun(join(dir, 'push', '.runboard', 'runboard.db'), 'bench-sync-push', points);
    const started = performance.now();
    const pushed = await pushRuns(ours.store, client, [ours.run]);
    const pushSeconds = (performance.now() - started) / 1000;
    ours.store.close();
    if (pushed.failure || pushed.sent.points !== points) throw new Error(`the push failed: ${pushed.failure ?? `${pushed.sent.points} points sent`}`);

    // A teammate's 100,000-point run (pushed from another workspace), pulled into a fresh one.
    const theirs = localRun(join(dir, 'teammate', '.runboard', 'runboard.db'), 'bench-sync-pull', pullPoints);
    await pushRuns(theirs.store, client, [theirs.run]);
    // The floor: MLflow answering the same histories (four in flight, as the pull asks them), nothing stored.
    const remoteRunId = theirs.store.sync.link(theirs.run.id, served.url)!.remoteRunId!;
    const answerStarted = performance.now();
    const keys = Array.from({ length: KEYS }, (_, k) => `m${k}`);
    const fetchOne = async () => {
      for (let key = keys.shift(); key; key = keys.shift()) await client.get('metrics/get-history', { run_id: remoteRunId, metric_key: key });
    };
    await Promise.all([fetchOne(), fetchOne(), fetchOne(), fetchOne()]);
    const answerSeconds = (performance.now() - answerStarted) / 1000;
    const fresh = Store.open(join(dir, 'pull', '.runboard', 'runboard.db'));
    const pullStarted = performance.now();
    const pulled = await pullRuns(fresh, client, { experiment: 'bench-sync-pull' });
    const pullSeconds = (performance.now() - pullStarted) / 1000;
    fresh.close();
    theirs.store.close();
    if (pulled.points !== pullPoints) throw new Error(`the pull stored ${pulled.points} points, not ${pullPoints}`);

    const figures = {
      syncPush: { points, seconds: round(pushSeconds), clientLogBatchSeconds: round(clientSeconds), ratio: round(pushSeconds / clientSeconds) },
      syncPull: { points: pullPoints, seconds: round(pullSeconds), serverHistorySeconds: round(answerSeconds) },
    };
    log(
      `sync: push of ${points.toLocaleString('en-US')} points to mlflow server ${figures.syncPush.seconds} s vs the real client's log_batch of the same points ${figures.syncPush.clientLogBatchSeconds} s (${figures.syncPush.ratio}×, goal ≤ 1.5); pull of a ${pullPoints.toLocaleString('en-US')}-point run ${figures.syncPull.seconds} s (goal < 5), of which mlflow server answering get-history alone takes ${figures.syncPull.serverHistorySeconds} s`,
    );
    return figures;
  } finally {
    await served.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
