// `runboard serve` speed: the server-side time of a log-batch of 1,000 metrics (goal < 5 ms p50)
// against storing the same points directly, and, where the MLflow peer is set up, the real Python
// client's synchronous log_metric and log_batch(1,000) against `runboard serve` and `mlflow server`.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MLFLOW_ROUTES } from '../src/core/mlflow/routeTable.ts';
import type { MlflowRequest } from '../src/core/mlflow/routes.ts';
import { Store } from '../src/core/store/store.ts';
import { peerMissing, runPython, startRealMlflow, startServe, type Served } from '../test/peer/peer.ts';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round = (x: number, digits = 2): number => Number(x.toFixed(digits));

function serverSide(dir: string, batches: number): { logBatch1000P50Ms: number; storeLogMetrics1000P50Ms: number } {
  const store = Store.open(join(dir, 'server-side.db'));
  try {
    const route = MLFLOW_ROUTES.find((r) => r.path.endsWith('/runs/log-batch'))!;
    const direct = store.createRun({ status: 'running' });
    const served = store.createRun({ status: 'running' });
    const handler: number[] = [];
    const baseline: number[] = [];
    for (let b = 0; b < batches; b++) {
      const now = Date.now();
      const metrics = Array.from({ length: 1000 }, (_, i) => ({ key: 'loss', value: Math.random(), timestamp: now, step: b * 1000 + i }));
      // The body as the server holds it after JSON parsing: what the handler costs on top of the store.
      const request: MlflowRequest = { method: 'POST', path: route.path, query: new URLSearchParams(), headers: {}, fields: { run_id: served.mlflowId, metrics } };
      const points = metrics.map((m) => ({ key: m.key, step: m.step, value: m.value, wall: m.timestamp }));
      const viaHandler = () => {
        const start = performance.now();
        route.handle(request, { store });
        handler.push(performance.now() - start);
      };
      const viaStore = () => {
        const start = performance.now();
        store.logMetrics(direct.id, points);
        baseline.push(performance.now() - start);
      };
      // Alternating which goes first, so neither always pays for the other's garbage.
      for (const measure of b % 2 ? [viaHandler, viaStore] : [viaStore, viaHandler]) measure();
    }
    return { logBatch1000P50Ms: round(median(handler), 3), storeLogMetrics1000P50Ms: round(median(baseline), 3) };
  } finally {
    store.close();
  }
}

type ClientFigures = { perLogMetricMs: number; logBatchMedianMs: number };

async function client(served: Served, calls: number, reps: number): Promise<ClientFigures> {
  const result = await runPython(join(import.meta.dirname, 'mlflowClient.py'), served, { args: [String(calls), String(reps)] });
  if (result.code !== 0) throw new Error(`mlflowClient.py failed: ${result.stderr.trim().split('\n').at(-1)}`);
  return result.report as ClientFigures;
}

export async function benchMlflow(log: (line: string) => void, quick: boolean): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), 'runboard-bench-mlflow-'));
  try {
    const side = serverSide(dir, quick ? 20 : 100);
    log(`mlflow serve: log-batch of 1,000 metrics ${side.logBatch1000P50Ms} ms p50 server-side (goal < 5), storing the same points directly ${side.storeLogMetrics1000P50Ms} ms (${round(side.logBatch1000P50Ms / side.storeLogMetrics1000P50Ms)}×)`);
    const missing = peerMissing();
    if (missing) {
      log(`mlflow serve vs mlflow server: skipped: ${missing}`);
      return { ...side, mlflowClientVsMlflow: null, mlflowClientVsMlflowReason: missing };
    }
    const calls = quick ? 200 : 1000;
    const reps = quick ? 5 : 20;
    const ours = await startServe(join(dir, '.runboard', 'runboard.db'));
    let runboard: ClientFigures;
    try {
      runboard = await client(ours, calls, reps);
    } finally {
      await ours.stop();
    }
    const real = await startRealMlflow(join(dir, 'mlflow'));
    let mlflow: ClientFigures;
    try {
      mlflow = await client(real, calls, reps);
    } finally {
      await real.stop();
    }
    const figures = {
      logMetricMsRunboard: round(runboard.perLogMetricMs),
      logMetricMsMlflow: round(mlflow.perLogMetricMs),
      logMetricRatio: round(runboard.perLogMetricMs / mlflow.perLogMetricMs),
      logBatch1000MsRunboard: round(runboard.logBatchMedianMs),
      logBatch1000MsMlflow: round(mlflow.logBatchMedianMs),
      logBatchRatio: round(runboard.logBatchMedianMs / mlflow.logBatchMedianMs),
    };
    log(
      `mlflow client: ${calls} synchronous log_metric ${figures.logMetricMsRunboard} ms each vs mlflow server ${figures.logMetricMsMlflow} ms (${figures.logMetricRatio}×, goal ≤ 0.5); log_batch(1,000) ${figures.logBatch1000MsRunboard} ms vs ${figures.logBatch1000MsMlflow} ms (${figures.logBatchRatio}×, goal ≤ 0.25)`,
    );
    return { ...side, mlflowClientVsMlflow: figures };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
