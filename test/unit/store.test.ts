import assert from 'node:assert/strict';
import { test } from 'node:test';
import { seededRandom } from '../../src/core/launch/sweep.ts';
import { change, type StoreChange } from '../../src/core/store/changes.ts';
import type { Store } from '../../src/core/store/store.ts';
import type { EnvelopeBucket, MetricPoint } from '../../src/core/store/types.ts';
import { buildRun, tempStore } from './helpers.ts';

test('runs: create, lifecycle, list, filter, resolve by id or name, delete', () => {
  const { store } = tempStore();
  const changes: StoreChange[] = [];
  store.onDidChange((c) => changes.push(c));
  const a = store.createRun({ experiment: 'mnist', name: 'baseline', command: ['python3', 'train.py', '--lr', '0.1'], cwd: '/w', profile: 'train' });
  const b = store.createRun({ experiment: 'mnist', parentId: a.id });
  const c = store.createRun({});
  assert.equal(a.status, 'queued');
  assert.equal(b.name, `run-${b.id}`);
  assert.equal(c.experiment, 'Default');
  assert.deepEqual(a.command, ['python3', 'train.py', '--lr', '0.1']);

  store.markStarted(a.id, 4242);
  assert.equal(store.run(a.id)!.status, 'running');
  assert.equal(store.run(a.id)!.pid, 4242);
  store.markEnded(a.id, { status: 'killed', exitCode: null, signal: 'SIGTERM' });
  const ended = store.run(a.id)!;
  assert.equal(ended.status, 'killed');
  assert.equal(ended.signal, 'SIGTERM');
  assert.equal(ended.pid, null);
  assert.ok(ended.endedAt! >= ended.startedAt!);

  assert.deepEqual(store.runs({ experiment: 'mnist' }).map((r) => r.id), [b.id, a.id]);
  assert.deepEqual(store.runs({ status: 'killed' }).map((r) => r.id), [a.id]);
  assert.deepEqual(store.runs({ parentId: a.id }).map((r) => r.id), [b.id]);
  assert.deepEqual(store.runs({ limit: 1, offset: 1 }).map((r) => r.id), [b.id]);
  assert.equal(store.countRuns({ experiment: 'mnist' }), 2);
  assert.deepEqual(store.experiments().map((e) => [e.name, e.runCount]), [['Default', 1], ['mnist', 2]]);

  assert.equal(store.resolveRun(String(a.id)).name, 'baseline');
  assert.equal(store.resolveRun('baseline').id, a.id);
  assert.throws(() => store.resolveRun('nope'), /No run "nope"/);

  const logged = buildRun(store, { series: { loss: [1, 2] } });
  store.deleteRun(c.id);
  assert.equal(store.run(c.id), undefined);
  assert.deepEqual(changes[0], change({ runs: [a.id] }), 'one event per write, naming the run');
  assert.ok(changes.some((e) => e.runs.includes(b.id)) && changes.some((e) => e.runs.includes(a.id) && e.metrics.length === 0));
  assert.ok(changes.some((e) => e.metrics.includes(logged.id) && e.runs.length === 0), 'points alone are announced as metrics');
  assert.deepEqual(changes.at(-1), change({ deletedRuns: [c.id] }));
});

test('conditional run transitions: each applies only while the run is active, the first end wins, no-ops announce nothing', () => {
  const { store } = tempStore();
  const announced: number[] = [];
  store.onDidChange((c) => announced.push(...c.runs));
  const a = store.createRun();
  const b = store.createRun();
  announced.length = 0;

  store.setRunPid(a.id, 41);
  assert.equal(store.run(a.id)!.pid, null, 'no pid before the run is claimed');
  assert.equal(store.claimRun(a.id), true);
  assert.equal(store.claimRun(a.id), false, 'claimed once');
  store.setRunPid(a.id, 42);
  assert.equal(store.markEndedIfActive(a.id, { status: 'killed' }, true), false, 'onlyIfQueued leaves a claimed run alone');
  assert.equal(store.requestStop(a.id, 'SIGTERM'), true);
  assert.deepEqual([store.run(a.id)!.status, store.run(a.id)!.pid, store.run(a.id)!.signal], ['running', 42, 'SIGTERM']);
  assert.equal(store.markEndedIfActive(a.id, { status: 'killed', signal: 'SIGTERM', endedAt: 1234 }), true);
  assert.equal(store.markEndedIfActive(a.id, { status: 'finished', exitCode: 0 }), false);
  assert.equal(store.requestStop(a.id, 'SIGKILL'), false);
  assert.equal(store.claimRun(a.id), false);
  store.setRunPid(a.id, 43);
  assert.deepEqual([store.run(a.id)!.status, store.run(a.id)!.signal, store.run(a.id)!.pid, store.run(a.id)!.endedAt], ['killed', 'SIGTERM', null, 1234]);

  assert.equal(store.markEndedIfActive(b.id, { status: 'killed', error: 'Stopped before it started' }, true), true);
  assert.equal(store.claimRun(b.id), false, 'a run stopped while queued never starts');
  assert.equal(store.run(b.id)!.startedAt, null);

  assert.deepEqual(announced, [a.id, a.id, a.id, a.id, b.id]);
});

test('deleting a run removes its points, rollups and summaries', () => {
  const { store } = tempStore();
  const run = buildRun(store, { series: { loss: Array.from({ length: 500 }, (_, i) => i) } });
  store.deleteRun(run.id);
  for (const table of ['metrics', 'metric_rollups', 'metric_summaries', 'params']) {
    assert.equal(store.db.prepare(`SELECT count(*) FROM ${table} WHERE run_id = ?`).pluck().get(run.id), 0, table);
  }
});

test('params and tags keep text as typed and overwrite by key', () => {
  const { store } = tempStore();
  const run = store.createRun({ params: { lr: 0.001, layers: 3, amsgrad: true, opt: 'adam' } });
  store.setParams(run.id, { lr: '1e-4', extra: { nested: [1, 2] } });
  store.setTags(run.id, { owner: 'ana', stage: 'dev' });
  assert.deepEqual(store.params(run.id), { amsgrad: 'true', extra: '{"nested":[1,2]}', layers: '3', lr: '1e-4', opt: 'adam' });
  assert.deepEqual(store.tags(run.id), { owner: 'ana', stage: 'dev' });
});

test('artifacts, inputs, code state, environment and the fingerprint cache', () => {
  const { store } = tempStore();
  const run = store.createRun({});
  store.addArtifact(run.id, { path: 'model.pkl', size: 10, sha256: 'a'.repeat(64), kind: 'model' });
  store.addArtifact(run.id, { path: 'plots/loss.png', size: 20, sha256: 'b'.repeat(64), kind: 'plot' });
  store.addArtifact(run.id, { path: 'model.pkl', size: 11, sha256: 'c'.repeat(64), kind: 'model' });
  assert.deepEqual(store.artifacts(run.id).map(({ path, size, kind }) => [path, size, kind]), [['model.pkl', 11, 'model'], ['plots/loss.png', 20, 'plot']]);

  const d1 = store.addInput(run.id, { path: 'data/train.csv', fingerprint: 'f1', size: 100 });
  const again = store.addInput(run.id, { path: 'data/train.csv', fingerprint: 'f1', size: 100 });
  const other = store.createRun({});
  assert.equal(store.addInput(other.id, { path: 'data/train.csv', fingerprint: 'f1', size: 100 }), d1, 'one dataset row per (path, fingerprint)');
  assert.equal(again, d1);
  assert.deepEqual(store.inputs(run.id), [{ datasetId: d1, path: 'data/train.csv', fingerprint: 'f1', size: 100 }]);

  store.setCodeState(run.id, { commit: 'abc123', branch: 'main', dirty: true, patch: 'diff --git …', patchTruncated: false });
  assert.deepEqual(store.codeState(run.id), { commit: 'abc123', branch: 'main', dirty: true, patch: 'diff --git …', patchTruncated: false });
  assert.equal(store.codeState(other.id), undefined);

  store.setEnvironment(run.id, { python: '3.11.7', packages: { numpy: '1.26' } });
  assert.deepEqual(store.environment(run.id), { python: '3.11.7', packages: { numpy: '1.26' } });

  store.cacheFingerprint('/data', 100, 1234.7, 'fp');
  assert.equal(store.cachedFingerprint('/data', 100, 1234.7), 'fp');
  assert.equal(store.cachedFingerprint('/data', 101, 1234.7), undefined, 'a size change misses the cache');
});

test('lineage: one query walks back from a node to its data and parents', () => {
  const { store } = tempStore();
  const parent = store.createRun({});
  const child = store.createRun({ parentId: parent.id });
  const dataset = store.addInput(child.id, { path: 'data.csv', fingerprint: 'fp', size: 1 });
  store.addEdge({ srcKind: 'run', srcId: child.id, dstKind: 'model_version', dstId: 7, relation: 'produced' });
  store.addEdge({ srcKind: 'model_version', srcId: 7, dstKind: 'deployment', dstId: 3, relation: 'deployed' });
  const up = store.upstream('deployment', 3);
  const has = (kind: string, id: number) => up.some((e) => e.srcKind === kind && e.srcId === id);
  assert.ok(has('model_version', 7) && has('run', child.id) && has('dataset', dataset) && has('run', parent.id));
  assert.equal(up.length, 4);
  const down = store.downstream('dataset', dataset);
  assert.ok(down.some((e) => e.dstKind === 'deployment' && e.dstId === 3));
});

test('metrics: summaries, NaN and ±Inf kept and flagged, duplicates ignored', () => {
  const { store } = tempStore();
  const run = store.createRun({});
  const points: MetricPoint[] = [
    { key: 'loss', step: 0, value: 2.5, wall: 1000 },
    { key: 'loss', step: 1, value: NaN, wall: 1001 },
    { key: 'loss', step: 2, value: Infinity, wall: 1002 },
    { key: 'loss', step: 3, value: -Infinity, wall: 1003 },
    { key: 'loss', step: 4, value: 0.5, wall: 1004 },
    { key: 'acc', step: 10, value: 0.9, wall: 1005 },
    { key: 'acc', step: 5, value: 0.7, wall: 1006 },
  ];
  assert.equal(store.logMetrics(run.id, points), 7);
  assert.equal(store.logMetrics(run.id, points), 0, 're-ingesting the same steps adds nothing');
  const s = store.summaries(run.id);
  assert.deepEqual(s.loss, { last: 0.5, lastStep: 4, lastWall: 1004, min: 0.5, max: 2.5, count: 5, nonfinite: 3, replaced: 0 });
  assert.deepEqual(s.acc, { last: 0.9, lastStep: 10, lastWall: 1005, min: 0.7, max: 0.9, count: 2, nonfinite: 0, replaced: 0 }, 'last is by step, not arrival');
  const series = store.series(run.id, 'loss').map((p) => p.value);
  assert.deepEqual(series, [2.5, NaN, Infinity, -Infinity, 0.5]);
  store.logMetrics(run.id, [{ key: 'nan_only', step: 0, value: NaN }]);
  const nanOnly = store.summaries(run.id).nan_only!;
  assert.ok(Number.isNaN(nanOnly.last) && Number.isNaN(nanOnly.min) && nanOnly.nonfinite === 1);
});

/** Brute-force envelope from raw points, bucketed the same way the store reports its buckets. */
function bruteForce(points: { step: number; value: number }[], buckets: EnvelopeBucket[]) {
  return buckets.map((b) => {
    const inside = points.filter((p) => p.step >= b.start && p.step <= b.end);
    const finite = inside.filter((p) => Number.isFinite(p.value)).map((p) => p.value);
    const last = inside.reduce((a, p) => (p.step > a.step ? p : a), inside[0]!);
    return {
      min: finite.length ? Math.min(...finite) : NaN,
      max: finite.length ? Math.max(...finite) : NaN,
      mean: finite.length ? finite.reduce((x, y) => x + y, 0) / finite.length : NaN,
      count: inside.length,
      last: last.value,
      lastStep: last.step,
    };
  });
}

function checkEnvelope(store: Store, runId: number, points: { step: number; value: number }[], buckets: number, from?: number, to?: number) {
  const env = store.envelope(runId, 'x', buckets, from, to);
  const lo = from ?? Math.min(...points.map((p) => p.step));
  const hi = to ?? Math.max(...points.map((p) => p.step));
  const inRange = points.filter((p) => p.step >= lo && p.step <= hi);
  assert.ok(env.buckets.length <= buckets, `at most ${buckets} buckets, got ${env.buckets.length}`);
  assert.equal(env.buckets.reduce((n, b) => n + b.count, 0), inRange.length, 'every point in range is in exactly one bucket');
  const expected = bruteForce(inRange, env.buckets);
  env.buckets.forEach((b, i) => {
    const e = expected[i]!;
    const label = `bucket ${b.start}-${b.end} (${env.source})`;
    assert.equal(b.count, e.count, label);
    assert.equal(b.min, e.min, label);
    assert.equal(b.max, e.max, label);
    assert.equal(b.lastStep, e.lastStep, label);
    assert.deepEqual(b.last, e.last, label);
    if (Number.isNaN(e.mean)) assert.ok(Number.isNaN(b.mean), label);
    else assert.ok(Math.abs(b.mean - e.mean) <= 1e-9 * Math.max(1, Math.abs(e.mean)), `${label} mean ${b.mean} vs ${e.mean}`);
  });
  return env;
}

test('envelopes from rollup tiers equal a brute-force computation on random series', () => {
  const { store } = tempStore();
  const rand = seededRandom(42);
  const sources = new Set<string>();
  for (let trial = 0; trial < 12; trial++) {
    const length = 50 + Math.floor(rand() * 40_000);
    const offset = Math.floor(rand() * 5000);
    const points: { step: number; value: number }[] = [];
    for (let i = 0, step = offset; i < length; i++) {
      step += 1 + (rand() < 0.2 ? Math.floor(rand() * 50) : 0); // irregular gaps between steps
      const r = rand();
      const value = r < 0.01 ? NaN : r < 0.015 ? Infinity : (rand() - 0.5) * 1000;
      points.push({ step, value });
    }
    const run = store.createRun({});
    // Shuffled batches: ingest order must not matter.
    const shuffled = [...points].sort(() => rand() - 0.5);
    for (let i = 0; i < shuffled.length; i += 7000) {
      store.logMetrics(run.id, shuffled.slice(i, i + 7000).map((p) => ({ key: 'x', ...p, wall: p.step })));
    }
    const buckets = 1 + Math.floor(rand() * 300);
    sources.add(checkEnvelope(store, run.id, points, buckets).source);
    const steps = points.map((p) => p.step);
    const a = steps[Math.floor(rand() * steps.length)]!;
    const b = steps[Math.floor(rand() * steps.length)]!;
    sources.add(checkEnvelope(store, run.id, points, buckets, Math.min(a, b), Math.max(a, b)).source);
  }
  assert.ok([...sources].some((s) => s.startsWith('tier')), 'the rollup tiers were exercised');
  assert.ok(sources.has('raw'), 'the raw path was exercised');
});

test('a loop restarted from a checkpoint: the last value logged for a step wins, and the replaced points are counted', () => {
  const { store } = tempStore();
  const run = store.createRun({});
  // step=0..4 printed three times, as a loop restarted twice prints them.
  const printed = [0, 100, 200].flatMap((offset) => [0, 1, 2, 3, 4].map((step) => ({ key: 'loss', step, value: offset + step })));
  store.logMetrics(run.id, printed.slice(0, 7));
  store.logMetrics(run.id, printed.slice(7));
  assert.deepEqual(store.series(run.id, 'loss').map((p) => p.value), [200, 201, 202, 203, 204]);
  const loss = store.summaries(run.id).loss!;
  assert.deepEqual({ last: loss.last, min: loss.min, max: loss.max, count: loss.count, replaced: loss.replaced }, { last: 204, min: 200, max: 204, count: 5, replaced: 10 });
  const [bucket] = store.envelope(run.id, 'loss', 1).buckets;
  assert.deepEqual({ min: bucket!.min, max: bucket!.max, last: bucket!.last, count: bucket!.count }, { min: 200, max: 204, last: 204, count: 5 });
  store.logMetrics(run.id, printed.slice(10));
  assert.equal(store.summaries(run.id).loss!.replaced, 10, 'the same values again (a log re-read after a crash) replace nothing');
});

/** Rollup rows of one run and key, tier by tier, without walls (they are relative to each run's creation). */
function rollups(store: Store, runId: number) {
  return (store.db.prepare('SELECT tier, bucket, min, max, sum, count, nonfinite, last, last_step FROM metric_rollups WHERE run_id = ? ORDER BY tier, bucket').all(runId) as {
    sum: number;
  }[]).map((row) => ({ ...row, sum: Math.round(row.sum * 1e6) / 1e6 }));
}

test('steps logged in order are written many rows at a time, and a step logged again, in the same batch or a later one, still replaces', () => {
  const { store } = tempStore();
  const run = store.createRun({});
  const final = new Map<string, Map<number, number>>([['a', new Map()], ['b', new Map()]]);
  const replaced = { a: 0, b: 0 };
  const batch = (points: { key: 'a' | 'b'; step: number; value: number }[]) => {
    let fresh = 0;
    for (const { key, step, value } of points) {
      const known = final.get(key)!;
      if (!known.has(step)) fresh++;
      else if (known.get(step) !== value) replaced[key]++;
      known.set(step, value);
    }
    assert.equal(store.logMetrics(run.id, points), fresh, 'the new points are counted as new');
  };
  const ascending = (from: number, to: number, offset: number) =>
    Array.from({ length: to - from }, (_, i) => (['a', 'b'] as const).map((key) => ({ key, step: from + i, value: from + i + offset }))).flat();
  // 400 rows in order: whole multi-row inserts, then a tail still queued when step 199 (queued)
  // and step 150 (written) come again, and step 10 again with its value unchanged.
  batch([...ascending(0, 200, 0), { key: 'a', step: 199, value: -1 }, { key: 'b', step: 150, value: -2 }, { key: 'a', step: 10, value: 10 }]);
  // A later batch goes on from the highest stored step, which it logs again first.
  batch([{ key: 'a', step: 199, value: -1 }, { key: 'b', step: 199, value: -3 }, ...ascending(200, 300, 0.5), { key: 'a', step: 250, value: 7 }]);
  for (const key of ['a', 'b'] as const) {
    const expected = [...final.get(key)!].sort((x, y) => x[0] - y[0]).map(([step, value]) => ({ step, value }));
    assert.deepEqual(store.series(run.id, key).map(({ step, value }) => ({ step, value })), expected, key);
    const summary = store.summaries(run.id)[key]!;
    assert.deepEqual({ count: summary.count, replaced: summary.replaced, last: summary.last }, { count: 300, replaced: replaced[key], last: expected.at(-1)!.value }, key);
  }
  assert.deepEqual(replaced, { a: 2, b: 2 });
});

test('rollups and summaries stay exact when points are replaced: random series with repeated steps, shuffled batches', () => {
  const { store } = tempStore();
  const rand = seededRandom(7);
  const randomValue = () => {
    const r = rand();
    return r < 0.02 ? NaN : r < 0.03 ? Infinity : r < 0.035 ? -Infinity : Math.round((rand() - 0.5) * 1e6) / 1000;
  };
  for (let trial = 0; trial < 5; trial++) {
    const length = 20 + Math.floor(rand() * 20_000);
    const steps: number[] = [];
    for (let i = 0, step = Math.floor(rand() * 3000) - 1000; i < length; i++) steps.push((step += 1 + (rand() < 0.2 ? Math.floor(rand() * 40) : 0)));
    // Every step once, a third of them again (some a third time), all shuffled: arrival order decides.
    const logged = [...steps, ...steps.filter(() => rand() < 0.33), ...steps.filter(() => rand() < 0.05)]
      .map((step) => ({ step, value: randomValue() }))
      .sort(() => rand() - 0.5);
    const final = new Map<number, number>();
    let replaced = 0;
    for (const { step, value } of logged) {
      if (final.has(step) && !Object.is(final.get(step), value)) replaced++;
      final.set(step, value);
    }
    const points = [...final].map(([step, value]) => ({ step, value })).sort((a, b) => a.step - b.step);
    const run = store.createRun({});
    for (let i = 0; i < logged.length; i += 5000) store.logMetrics(run.id, logged.slice(i, i + 5000).map((p) => ({ key: 'x', ...p, wall: p.step })));
    const fresh = store.createRun({});
    store.logMetrics(fresh.id, points.map((p) => ({ key: 'x', ...p, wall: p.step })));
    assert.deepEqual(rollups(store, run.id), rollups(store, fresh.id), `trial ${trial}: every rollup bucket equals one built from the final points`);
    const finite = points.map((p) => p.value).filter(Number.isFinite);
    const summary = store.summaries(run.id).x!;
    assert.deepEqual(
      { last: summary.last, lastStep: summary.lastStep, min: summary.min, max: summary.max, count: summary.count, nonfinite: summary.nonfinite, replaced: summary.replaced },
      {
        last: points.at(-1)!.value,
        lastStep: points.at(-1)!.step,
        min: Math.min(...finite),
        max: Math.max(...finite),
        count: points.length,
        nonfinite: points.length - finite.length,
        replaced,
      },
      `trial ${trial}`,
    );
    checkEnvelope(store, run.id, points, 1 + Math.floor(rand() * 300));
  }
});

test('an envelope of a long series reads rollup rows, not raw points, and keeps a lone spike', () => {
  const { store } = tempStore();
  const run = store.createRun({});
  const n = 300_000;
  const points = Array.from({ length: n }, (_, step) => ({ key: 'x', step, value: step === 123_457 ? 1e6 : Math.sin(step / 1000) }));
  store.logMetrics(run.id, points);
  const env = store.envelope(run.id, 'x', 1000);
  assert.match(env.source, /^tier/);
  assert.ok(env.buckets.length <= 1000);
  assert.equal(Math.max(...env.buckets.map((b) => b.max)), 1e6, 'the spike survives downsampling');
  const tier = Number(env.source.slice(4));
  const rollupRows = store.db
    .prepare('SELECT count(*) FROM metric_rollups WHERE run_id = ? AND tier = ?')
    .pluck()
    .get(run.id, tier) as number;
  assert.ok(rollupRows <= 2 * 1000 + 2, `envelope tier has ${rollupRows} rows for 1000 buckets`);
  assert.ok(env.buckets.length >= 500, `${env.buckets.length} buckets of 1000 asked`);
});

test('metric steps may be negative or huge safe integers', () => {
  const { store } = tempStore();
  const run = store.createRun({});
  const big = 2 ** 40;
  store.logMetrics(run.id, [
    { key: 'x', step: -5, value: 1 },
    { key: 'x', step: big, value: 2 },
  ]);
  const env = store.envelope(run.id, 'x', 10);
  assert.equal(env.buckets.reduce((n, b) => n + b.count, 0), 2);
  assert.equal(store.summaries(run.id).x!.lastStep, big);
});
