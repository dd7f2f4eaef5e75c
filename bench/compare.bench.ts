// The Compare panel on 100 runs × 100k steps: the host's query, VS Code-style serialisation of the
// messages, and the webview's first paint in headless Chromium (goal: < 300 ms from the init
// message to the `rendered` report). Run alone: node bench/compare.bench.ts [--runs N] [--steps N]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SeriesReader } from '../src/core/compare/series.ts';
import { buildTable, compareState, defaultMetrics, loadRuns, snapshot } from '../src/core/compare/table.ts';
import { Store } from '../src/core/store/store.ts';
import type { MetricPoint } from '../src/core/store/types.ts';
import { DEFAULT_POINTS, type HostMessage, type SeriesQuery } from '../src/shared/compareProtocol.ts';
import { openComparePage, replayInit, stageReplay } from '../test/browser/compareHarness.ts';
import { launchChromium, serializeMessage } from '../test/browser/webviewPage.ts';

const ROOT = join(import.meta.dirname, '..');

export interface CompareBench {
  compareQueryMs: number;
  compareSerializeMs: number;
  compareFirstPaintMs: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round1 = (x: number) => Math.round(x * 10) / 10;

/**
 * One run is ingested through the store (rollups and all); the others are SQL copies of it with
 * every value shifted by a small per-run offset (rollups and summaries shifted alike), so 100 runs
 * × 100k steps take seconds to build, and each line is distinct.
 */
function buildStore(file: string, runs: number, steps: number): { store: Store; ids: number[] } {
  const store = Store.open(file);
  const first = store.createRun({ name: 'run-000', params: { lr: 0.001, seed: 0 } });
  const wall0 = Date.now();
  for (let start = 0; start < steps; start += 100_000) {
    const points: MetricPoint[] = [];
    for (let step = start; step < Math.min(steps, start + 100_000); step++) {
      points.push({ key: 'loss', step, value: 2 * Math.exp(-step / (steps / 5)) + 0.1 + 0.05 * Math.sin(step * 0.37) + (step % 9973 === 0 ? 1 : 0), wall: wall0 + step * 10 });
    }
    store.logMetrics(first.id, points);
  }
  const ids = [first.id];
  const db = store.db;
  const copy = db.transaction((id: number, offset: number) => {
    db.prepare('INSERT INTO metrics (run_id, key_id, step, wall, value) SELECT ?, key_id, step, wall, value + ? FROM metrics WHERE run_id = ?').run(id, offset, first.id);
    db.prepare(`INSERT INTO metric_rollups (run_id, key_id, tier, bucket, min, max, sum, count, nonfinite, last, last_step, last_wall)
      SELECT ?, key_id, tier, bucket, min + ?, max + ?, sum + ? * count, count, nonfinite, last + ?, last_step, last_wall FROM metric_rollups WHERE run_id = ?`).run(id, offset, offset, offset, offset, first.id);
    db.prepare(`INSERT INTO metric_summaries (run_id, key_id, last, last_step, last_wall, min, max, count, nonfinite)
      SELECT ?, key_id, last + ?, last_step, last_wall, min + ?, max + ?, count, nonfinite FROM metric_summaries WHERE run_id = ?`).run(id, offset, offset, offset, first.id);
  });
  for (let r = 1; r < runs; r++) {
    const run = store.createRun({ name: `run-${String(r).padStart(3, '0')}`, params: { lr: [0.001, 0.003, 0.01, 0.03][r % 4]!, seed: r } });
    copy(run.id, r * 0.004);
    ids.push(run.id);
  }
  for (const id of ids) store.markEnded(id, { status: 'finished' });
  store.db.pragma('wal_checkpoint(TRUNCATE)');
  return { store, ids };
}

export async function benchCompare(log: (line: string) => void, options: { runs?: number; steps?: number } = {}): Promise<CompareBench> {
  const runs = options.runs ?? 100;
  const steps = options.steps ?? 100_000;
  const dir = mkdtempSync(join(tmpdir(), 'runboard-bench-compare-'));
  try {
    const built = Date.now();
    const { store, ids } = buildStore(join(dir, 'compare.db'), runs, steps);
    log(`compare: built ${runs} runs × ${steps.toLocaleString('en-US')} steps in ${((Date.now() - built) / 1000).toFixed(1)} s`);

    // Host: what the panel does on ready and on the chart's request, from a cold reader each time.
    const query: SeriesQuery = { metric: 'loss', xAxis: 'step', range: null, points: DEFAULT_POINTS, groupBy: null };
    let messages: HostMessage[] = [];
    const queryTimes: number[] = [];
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const snaps = snapshot(store, loadRuns(store, ids));
      const state = compareState(snaps);
      const data = new SeriesReader(store).query(snaps.map((s) => s.run), query, (id) => snaps.find((s) => s.run.id === id)!.params);
      messages = [
        { type: 'init', state, defaultMetrics: defaultMetrics(state.metrics) },
        { type: 'table', table: buildTable(snaps, state.directions) },
        { type: 'series', requestId: 1, partial: false, ...data },
      ];
      queryTimes.push(performance.now() - t);
    }
    const series = messages[2] as Extract<HostMessage, { type: 'series' }>;
    const points = series.runs.reduce((a, s) => a + s.x.length, 0);
    const serializeTimes: number[] = [];
    let bytes = 0;
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      bytes = 0;
      for (const m of messages) {
        const { json, buffers } = serializeMessage(m);
        bytes += json.length + buffers.reduce((a, b) => a + b.byteLength, 0);
      }
      serializeTimes.push(performance.now() - t);
    }
    const compareQueryMs = round1(median(queryTimes));
    const compareSerializeMs = round1(median(serializeTimes));
    log(`compare: host query (state, table, ${runs} envelopes → ${points.toLocaleString('en-US')} points) ${compareQueryMs} ms; serialise ${(bytes / 1e6).toFixed(1)} MB ${compareSerializeMs} ms`);
    store.close();

    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-webviews.mjs'), '--production'], { cwd: ROOT, stdio: 'inherit' });
    const browser = await launchChromium();
    try {
      const paints: number[] = [];
      for (let i = 0; i < 3; i++) {
        const cp = await openComparePage(browser);
        try {
          await stageReplay(cp, [
            { key: 'init', message: messages[0]! },
            { key: 'table', message: messages[1]! },
            { key: 'series:loss', message: series },
          ]);
          const { ms, report } = await replayInit(cp, ['init', 'table'], 'loss');
          if (report.series.length !== runs) throw new Error(`The chart drew ${report.series.length} series, not ${runs}`);
          paints.push(ms);
          log(`compare:   paint ${round1(ms)} ms, of which chart render ${report.ms} ms`);
          if (cp.problems.length) log(`compare: page reported ${cp.problems.join('; ')}`);
        } finally {
          await cp.close();
        }
      }
      const compareFirstPaintMs = round1(median(paints));
      log(`compare: webview first paint (init → rendered, ${runs} series) ${compareFirstPaintMs} ms (runs: ${paints.map(round1).join(', ')}; goal < 300)`);
      return { compareQueryMs, compareSerializeMs, compareFirstPaintMs };
    } finally {
      await browser.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : undefined;
  };
  const result = await benchCompare((line) => console.log(line), { runs: arg('--runs'), steps: arg('--steps') });
  console.log(JSON.stringify(result));
}
