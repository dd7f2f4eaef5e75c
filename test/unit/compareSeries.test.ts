import assert from 'node:assert/strict';
import { test } from 'node:test';
import { groupSeries, interpolate, SeriesReader, seriesCsv, stepBounds } from '../../src/core/compare/series.ts';
import type { RunSeries, SeriesQuery } from '../../src/shared/compareProtocol.ts';
import type { MetricPoint } from '../../src/core/store/types.ts';
import { buildRun, tempStore } from './helpers.ts';

const q = (over: Partial<SeriesQuery> = {}): SeriesQuery => ({ metric: 'loss', xAxis: 'step', range: null, points: 1000, groupBy: null, ...over });
const WALL0 = 1_700_000_000_000;

test('series: exact raw points when few enough, envelope buckets otherwise (spikes kept in min/max)', () => {
  const { store } = tempStore();
  const small = buildRun(store, { series: { loss: Array.from({ length: 500 }, (_, i) => 1 / (i + 1)) } });
  const big = store.createRun({});
  const points: MetricPoint[] = Array.from({ length: 100_000 }, (_, step) => ({ key: 'loss', step, value: step === 54_321 ? 1e6 : Math.sin(step / 1000), wall: WALL0 + step * 10 }));
  store.logMetrics(big.id, points);
  const reader = new SeriesReader(store);
  const out = reader.query([store.run(small.id)!, store.run(big.id)!], q(), () => ({}));
  const [s, b] = out.runs;
  assert.equal(s!.exact, true);
  assert.equal(s!.x.length, 500);
  assert.equal(s!.y[9], 0.1);
  assert.equal(s!.min, null);
  assert.equal(b!.exact, false);
  assert.ok(b!.x.length >= 500 && b!.x.length <= 1000, `${b!.x.length} buckets`);
  assert.match(b!.source, /^tier\d+$/);
  assert.equal(Math.max(...b!.max!), 1e6, 'the spike survives downsampling');
  assert.equal(b!.count!.reduce((a, c) => a + c, 0), 100_000);
  // All columns of one series share one buffer (one transfer).
  assert.equal(b!.y.buffer, b!.x.buffer);
  assert.deepEqual(out.domain, { from: 0, to: 99_999 });

  // Zoom: a narrow range comes back at full fidelity.
  const zoom = reader.query([store.run(big.id)!], q({ range: { from: 54_000, to: 54_600 } }), () => ({})).runs[0]!;
  assert.equal(zoom.exact, true);
  assert.equal(zoom.x.length, 601);
  assert.equal(zoom.x[0], 54_000);
  assert.equal(zoom.y[321], 1e6);
  // A wider zoom: more buckets in the range than the full view had there.
  const mid = reader.query([store.run(big.id)!], q({ range: { from: 40_000, to: 60_000 } }), () => ({})).runs[0]!;
  assert.equal(mid.exact, false);
  assert.ok(mid.x[0]! >= 40_000 && mid.x[mid.x.length - 1]! <= 60_000);
  assert.ok(mid.x.length >= 500);
});

test('series: long ranges come from the tiers only, 1–2k aligned buckets, every point counted once', () => {
  const { store } = tempStore();
  const run = store.createRun({});
  const points: MetricPoint[] = Array.from({ length: 100_001 }, (_, i) => ({ key: 'loss', step: i + 7, value: i === 77_777 ? -50 : Math.cos(i / 500), wall: WALL0 + i }));
  store.logMetrics(run.id, points);
  const reader = new SeriesReader(store);
  const s = reader.query([store.run(run.id)!], q({ points: 2000 }), () => ({})).runs[0]!;
  assert.equal(s.exact, false);
  assert.equal(s.source, 'tier6');
  assert.ok(s.x.length > 1000 && s.x.length <= 2000, `${s.x.length} buckets`);
  assert.equal(s.count!.reduce((a, c) => a + c, 0), 100_001);
  assert.equal(Math.min(...s.min!), -50);
  assert.equal(s.step[0], 63, 'the ragged start is a bucket of its own (steps 7…63)');
  assert.equal(s.step[s.step.length - 1], 100_007);
  // The series' extent is found without reading points; an unknown metric is empty.
  assert.deepEqual(reader.query([store.run(run.id)!], q({ metric: 'nope' }), () => ({})).runs[0]!.x.length, 0);
  // A zoom too short for the tiers reads raw points into ~2k buckets.
  const zoom = reader.query([store.run(run.id)!], q({ points: 2000, range: { from: 10_000, to: 30_000 } }), () => ({})).runs[0]!;
  assert.equal(zoom.source, 'raw');
  assert.ok(zoom.x.length > 1000 && zoom.x.length <= 2000, `${zoom.x.length} buckets`);
});

test('series: x as relative time, wall time and epoch; epoch only for runs that logged it', () => {
  const { store } = tempStore();
  const withEpoch = store.createRun({});
  store.markStarted(withEpoch.id, null);
  const started = store.run(withEpoch.id)!.startedAt!;
  const pts: MetricPoint[] = [];
  for (let step = 0; step < 1000; step++) pts.push({ key: 'loss', step, value: step, wall: started + step * 1000 });
  // Epoch logged at the end of each epoch of 100 steps.
  for (let e = 1; e <= 10; e++) pts.push({ key: 'epoch', step: e * 100 - 1, value: e, wall: started + (e * 100 - 1) * 1000 });
  store.logMetrics(withEpoch.id, pts);
  const without = buildRun(store, { series: { loss: [1, 2, 3] } });
  const reader = new SeriesReader(store);
  const runs = [store.run(withEpoch.id)!, store.run(without.id)!];

  const rel = reader.query(runs, q({ xAxis: 'relative' }), () => ({})).runs[0]!;
  assert.equal(rel.x[10], 10);
  assert.equal(rel.step[10], 10);
  const wall = reader.query(runs, q({ xAxis: 'wall' }), () => ({})).runs[0]!;
  assert.equal(wall.x[10], started + 10_000);

  const epoch = reader.query(runs, q({ xAxis: 'epoch' }), () => ({}));
  assert.deepEqual(epoch.runs.map((r) => r.runId), [withEpoch.id], 'runs without an epoch metric are left out');
  const e = epoch.runs[0]!;
  assert.equal(e.x[99], 1);
  assert.equal(e.x[199], 2);
  assert.ok(Math.abs(e.x[149]! - 1.5) < 1e-9);
  assert.ok(Math.abs(e.x[0]! - 0.01) < 1e-9, 'before the first epoch mark: extended along the first segment');

  // Zoom in epoch units maps back to steps (padded by one sample on each side).
  const z = reader.query(runs, q({ xAxis: 'epoch', range: { from: 3, to: 4 } }), () => ({})).runs[0]!;
  assert.equal(z.step[0], 199);
  assert.equal(z.step[z.step.length - 1], 499);
  // Zoom in relative seconds.
  const zr = reader.query(runs, q({ xAxis: 'relative', range: { from: 100, to: 200 } }), () => ({})).runs[0]!;
  assert.ok(zr.step[0]! <= 100 && zr.step[0]! >= 90);
  assert.ok(zr.step[zr.step.length - 1]! >= 200 && zr.step[zr.step.length - 1]! <= 210);
});

test('interpolate and stepBounds', () => {
  const curve = { steps: [99, 199, 299], xs: [1, 2, 3] };
  assert.equal(interpolate(curve, 149), 1.5);
  assert.equal(interpolate(curve, 399), 4);
  assert.equal(interpolate({ steps: [5], xs: [7] }, 100), 7);
  assert.deepEqual(stepBounds(curve, { from: 1.5, to: 2.5 }), [99, 299]);
  assert.deepEqual(stepBounds(curve, { from: 0, to: 10 }), [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]);
});

test('group by a param: mean ± sample std over the runs of each group, aligned on steps', () => {
  const { store } = tempStore();
  const params: Record<number, Record<string, string>> = {};
  const mk = (lr: string, values: number[]) => {
    const r = buildRun(store, { params: { lr }, series: { loss: values } });
    params[r.id] = store.params(r.id);
    return store.run(r.id)!;
  };
  const runs = [mk('0.1', [1, 2, 3, 4]), mk('0.1', [3, 4, 5, 6]), mk('0.01', [10, 10, 10, 10]), mk('0.1', [5, 6])];
  const reader = new SeriesReader(store);
  const out = reader.query(runs, q({ groupBy: 'lr' }), (id) => params[id]!);
  assert.deepEqual(out.runs, []);
  assert.deepEqual(out.groups!.map((g) => g.group), ['0.01', '0.1'], 'numeric group values sort numerically');
  const g = out.groups![1]!;
  assert.equal(g.runIds.length, 3);
  assert.deepEqual([...g.x], [0, 1, 2, 3]);
  assert.deepEqual([...g.mean], [3, 4, 4, 5]);
  assert.deepEqual([...g.n], [3, 3, 2, 2]);
  assert.equal(g.std[0], 2);
  assert.ok(Math.abs(g.std[2]! - Math.SQRT2) < 1e-12);
  assert.deepEqual([...out.groups![0]!.std], [0, 0, 0, 0]);

  // A run logging every other step is interpolated in the cells it skipped.
  const dense: RunSeries = { runId: 1, exact: true, source: 'raw', x: Float64Array.of(0, 1, 2, 3, 4), step: Float64Array.of(0, 1, 2, 3, 4), y: Float64Array.of(1, 1, 1, 1, 1), min: null, max: null, count: null, nonfinite: null };
  const sparse: RunSeries = { runId: 2, exact: true, source: 'raw', x: Float64Array.of(0, 2, 4), step: Float64Array.of(0, 2, 4), y: Float64Array.of(3, 5, 7), min: null, max: null, count: null, nonfinite: null };
  const [mixed] = groupSeries([dense, sparse], 'k', () => ({ k: 'v' }), 100, 'step', null);
  assert.deepEqual([...mixed!.n], [2, 2, 2, 2, 2]);
  assert.deepEqual([...mixed!.mean], [2, 2.5, 3, 3.5, 4]);

  // Bucketed inputs are weighted by their point counts.
  const a: RunSeries = { runId: 1, exact: false, source: 'tier6', x: Float64Array.of(0, 9), step: Float64Array.of(0, 9), y: Float64Array.of(1, 3), min: null, max: null, count: Float64Array.of(1, 3), nonfinite: Float64Array.of(0, 0) };
  const [only] = groupSeries([a], 'k', () => ({ k: 'v' }), 1, 'step', { from: 0, to: 9 });
  assert.deepEqual([...only!.mean], [2.5]);
  assert.deepEqual([...only!.x], [4.5]);
});

test('series CSV: long form, with bucket min/max/count or blanks for raw points', () => {
  const { store } = tempStore();
  const r = buildRun(store, { name: '=evil', series: { loss: [0.5, 0.25] } });
  const reader = new SeriesReader(store);
  const data = reader.query([store.run(r.id)!], q(), () => ({}));
  assert.equal(seriesCsv(data, () => '=evil'), `run_id,run,metric,step,value,min,max,count\r\n${r.id},'=evil,loss,0,0.5,,,\r\n${r.id},'=evil,loss,1,0.25,,,\r\n`);
});

test('series: each envelope bucket says how many NaN and ±Infinity points it holds; exact series need no count', () => {
  const { store } = tempStore();
  const run = store.createRun({});
  // Every 10th step of [40000, 60000) is NaN or +Inf; the envelope's min/max/count leave them out.
  store.logMetrics(run.id, Array.from({ length: 100_000 }, (_, step) => ({ key: 'loss', step, value: step >= 40_000 && step < 60_000 && step % 10 === 0 ? (step % 20 ? NaN : Infinity) : 1 })));
  const reader = new SeriesReader(store);
  const s = reader.query([store.run(run.id)!], q(), () => ({})).runs[0]!;
  assert.equal(s.exact, false);
  const nonfinite = s.nonfinite!;
  assert.equal(nonfinite.reduce((a, c) => a + c, 0), 2000, 'every non-finite point is in one bucket');
  assert.equal(s.count!.reduce((a, c) => a + c, 0) + 2000, 100_000);
  for (let i = 0; i < s.x.length; i++) {
    // Buckets are reported at their last step and are at most 256 steps wide here.
    if (s.step[i]! < 40_000 || s.step[i]! >= 60_256) assert.equal(nonfinite[i], 0, `bucket ending at step ${s.step[i]}`);
    assert.equal(s.max![i], 1, 'max over finite values');
  }
  assert.equal(nonfinite.buffer, s.x.buffer, 'one buffer, one transfer');
  const raw = reader.query([store.run(run.id)!], q({ range: { from: 40_000, to: 40_100 } }), () => ({})).runs[0]!;
  assert.equal(raw.exact, true);
  assert.equal(raw.nonfinite, null);
});
