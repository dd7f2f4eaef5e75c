import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Profile } from '../../src/core/launch/profiles.ts';
import { stopRun } from '../../src/core/launch/stop.ts';
import { gridPoints, planSweep, startSweep, sweepRunNames } from '../../src/core/launch/sweep.ts';
import type { Run } from '../../src/core/store/types.ts';
import { tempStore } from './helpers.ts';
import { PY, waitFor } from './launchHelpers.ts';

// Sleeps `--sleep` seconds; fails when `--fail-at` equals `--depth`.
const TRAIN = `
import argparse, time, sys
p = argparse.ArgumentParser()
p.add_argument("--lr", type=float); p.add_argument("--depth", type=int)
p.add_argument("--sleep", type=float, default=0); p.add_argument("--fail-at", type=int, default=-1)
a = p.parse_args()
time.sleep(a.sleep)
sys.exit(3 if a.depth == a.fail_at else 0)
`;

function profile(overrides: Partial<Profile> = {}): Profile {
  return {
    name: 'train',
    command: ['${interpreter}', 'train.py', '--lr', '${param:lr}', '--depth', '${param:depth}', '--sleep', '${param:sleep}', '--fail-at', '${param:fail_at}'],
    env: {},
    params: [
      { name: 'lr', type: 'number', default: 0.1 },
      { name: 'depth', type: 'int', default: 3 },
      { name: 'sleep', type: 'number', default: 0 },
      { name: 'fail_at', type: 'int', default: -1 },
      { name: 'opt', type: 'choice', choices: ['adam', 'sgd'], default: 'adam' },
    ],
    inputs: [],
    gates: [],
    interpreter: PY,
    ...overrides,
  };
}

function ws() {
  const t = tempStore();
  writeFileSync(join(t.workspace, 'train.py'), TRAIN);
  return t;
}

/** The most runs that were running at the same moment, from the recorded start and end times. */
function maxOverlap(runs: Run[]): number {
  const events = runs.flatMap((r) => [
    [r.startedAt!, 1],
    [r.endedAt!, -1],
  ]);
  events.sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
  let now = 0;
  let most = 0;
  for (const [, delta] of events) most = Math.max(most, (now += delta!));
  return most;
}

test('grid: the cartesian product, first param slowest, values typed by the profile', () => {
  assert.deepEqual(gridPoints({ lr: [0.1, 0.01], depth: [3, 5] }), [
    { lr: 0.1, depth: 3 },
    { lr: 0.1, depth: 5 },
    { lr: 0.01, depth: 3 },
    { lr: 0.01, depth: 5 },
  ]);
  const plan = planSweep(profile(), { grid: { lr: ['0.1', '1e-2'], opt: ['sgd'] } });
  assert.deepEqual(plan.points, [
    { lr: 0.1, opt: 'sgd' },
    { lr: 0.01, opt: 'sgd' },
  ]);
  assert.equal(plan.seed, null);
  assert.equal(plan.parallel, 1);
  assert.throws(() => planSweep(profile(), { grid: { depth: ['3', 'deep'] } }), /--grid depth=3,deep: depth must be an integer/);
  assert.throws(() => planSweep(profile(), { grid: { momentum: ['0.9'] } }), /has no param "momentum"/);
  assert.throws(() => planSweep(profile(), {}), /Nothing to sweep: give --grid/);
});

test('sweep runs are named by the values that vary between points; nothing varying keeps the default name', () => {
  assert.deepEqual(sweepRunNames(gridPoints({ lr: [0.03, 0.1], seed: [1, 2], opt: ['adam'] })), ['lr=0.03 seed=1', 'lr=0.03 seed=2', 'lr=0.1 seed=1', 'lr=0.1 seed=2']);
  assert.deepEqual(sweepRunNames([{ lr: 0.012345678 }, { lr: 0.5 }]), ['lr=0.01235', 'lr=0.5']);
  assert.deepEqual(sweepRunNames([{ lr: 0.1 }]), [undefined]);
});

test('random search: distinct grid points or samples from ranges, the same for the same seed', () => {
  const grid = { lr: ['0.1', '0.01', '0.001'], depth: ['1', '2', '3', '4'] };
  const a = planSweep(profile(), { grid, random: 5, seed: 42 });
  assert.equal(a.points.length, 5);
  assert.equal(new Set(a.points.map((p) => JSON.stringify(p))).size, 5, 'no point twice');
  assert.deepEqual(planSweep(profile(), { grid, random: 5, seed: 42 }).points, a.points, 'replayable');
  assert.notDeepEqual(planSweep(profile(), { grid, random: 5, seed: 43 }).points, a.points);
  assert.equal(planSweep(profile(), { grid, random: 50, seed: 1 }).points.length, 12, 'never more than the grid holds');
  assert.equal(typeof planSweep(profile(), { grid, random: 2 }).seed, 'number', 'a fresh seed is chosen and reported');

  const sampled = profile({
    sweep: {
      grid: { opt: ['adam', 'sgd'] },
      random: { count: 200, params: { lr: { min: 1e-5, max: 1e-1, log: true }, depth: { min: 2, max: 4, log: false }, sleep: [0, 0.5] } },
      parallel: 3,
    },
  });
  const plan = planSweep(sampled, { seed: 7 });
  assert.equal(plan.parallel, 3);
  assert.equal(plan.points.length, 400, 'count samples per grid point');
  assert.deepEqual([...new Set(plan.points.map((p) => p.opt))], ['adam', 'sgd']);
  const lrs = plan.points.map((p) => p.lr as number);
  assert.ok(lrs.every((lr) => lr >= 1e-5 && lr <= 1e-1));
  // Log-uniform: about a quarter of the samples in each decade.
  const belowMilli = lrs.filter((lr) => lr < 1e-3).length / lrs.length;
  assert.ok(belowMilli > 0.4 && belowMilli < 0.6, `log sampling, got ${belowMilli}`);
  assert.deepEqual([...new Set(plan.points.map((p) => p.depth))].sort(), [2, 3, 4], 'ints cover the inclusive range');
  assert.ok(plan.points.every((p) => p.sleep === 0 || p.sleep === 0.5));
  assert.equal(planSweep(sampled, { seed: 7, random: 3 }).points.length, 6, '--random overrides the count');
});

test('a sweep runs every point as a child of a parent run, at most K at once, and finishes when all did', async () => {
  const { store, dbPath, workspace } = ws();
  const planned: number[] = [];
  const sweep = startSweep(
    store,
    { dbPath, workspace, profile: profile(), grid: { depth: ['1', '2', '3', '4', '5'] }, params: { sleep: '0.3' }, parallel: 2, experiment: 'sweeps' },
    { planned: (_parent, children) => planned.push(...children.map((c) => c.id)) },
  );
  assert.equal(sweep.children.length, 5);
  assert.deepEqual(planned, sweep.children.map((c) => c.id));
  const parent = await sweep.done;
  assert.equal(parent.status, 'finished', parent.error ?? '');
  assert.equal(parent.experiment, 'sweeps');
  assert.deepEqual(store.params(parent.id), { sleep: '0.3' });
  const children = store.runs({ parentId: parent.id }).reverse();
  assert.deepEqual(children.map((c) => c.status), Array(5).fill('finished'));
  assert.deepEqual(children.map((c) => store.params(c.id).depth), ['1', '2', '3', '4', '5']);
  assert.deepEqual(children.map((c) => c.name), ['depth=1', 'depth=2', 'depth=3', 'depth=4', 'depth=5'], 'named by what varies, not run-7…');
  assert.deepEqual(children[0]!.command.slice(2, 6), ['--lr', '0.1', '--depth', '1']);
  assert.equal(maxOverlap(children), 2, 'two at a time, never three');
  assert.ok(store.upstream('run', children[0]!.id).some((e) => e.srcId === parent.id && e.relation === 'child'));
  assert.ok(parent.endedAt! >= Math.max(...children.map((c) => c.endedAt!)));
});

test('the parent fails when a child fails, naming it; the others still run', async () => {
  const { store, dbPath, workspace } = ws();
  const sweep = startSweep(store, { dbPath, workspace, profile: profile(), grid: { depth: ['1', '2', '3'] }, params: { fail_at: '2' }, parallel: 3 });
  const parent = await sweep.done;
  const [first, second, third] = sweep.children.map((c) => store.run(c.id)!);
  assert.deepEqual([first!.status, second!.status, third!.status], ['finished', 'failed', 'finished']);
  assert.equal(second!.exitCode, 3);
  assert.equal(parent.status, 'failed');
  assert.equal(parent.error, `1 of 3 runs failed: ${second!.id}`);
});

test('stopping a sweep (here, or through the store as from another terminal) kills the running child and cancels the queued ones', async () => {
  for (const how of ['handle', 'stopRun'] as const) {
    const { store, dbPath, workspace } = ws();
    const sweep = startSweep(store, { dbPath, workspace, profile: profile(), grid: { depth: ['1', '2', '3'] }, params: { sleep: '60' }, parallel: 1 });
    const [first, ...rest] = sweep.children;
    await waitFor(() => store.run(first!.id)!.pid !== null, 10_000, 'the first child to start');
    if (how === 'handle') await sweep.stop(2000);
    else assert.equal((await stopRun(store, sweep.parent.id, { graceMs: 2000, pollMs: 20 })).run.status, 'killed');
    const parent = await sweep.done;
    assert.deepEqual([parent.status, parent.signal], ['killed', 'SIGTERM'], how);
    assert.deepEqual([store.run(first!.id)!.status, store.run(first!.id)!.signal], ['killed', 'SIGTERM'], how);
    for (const child of rest) {
      const run = store.run(child.id)!;
      assert.equal(run.status, 'killed', how);
      assert.equal(run.startedAt, null, `${how}: a queued child never starts`);
    }
  }
});
