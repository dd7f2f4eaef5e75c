import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ChangeCoalescer } from '../../src/core/refresh.ts';
import { change, type StoreChange } from '../../src/core/store/changes.ts';

const wait = (ms: number) => new Promise((done) => setTimeout(done, ms));

test('the first change goes out at once; a burst within the interval goes out once, merged by union', async () => {
  const emitted: StoreChange[] = [];
  const coalescer = new ChangeCoalescer((c) => emitted.push(c), 40);
  coalescer.push(change({ runs: [1] }));
  assert.deepEqual(emitted, [change({ runs: [1] })], 'leading');
  coalescer.push(change({ metrics: [2] }));
  coalescer.push(change({ metrics: [3], deployments: [7] }));
  coalescer.push(change({ runs: [2] }));
  assert.equal(emitted.length, 1);
  await wait(60);
  assert.deepEqual(emitted[1], change({ runs: [2], metrics: [3], deployments: [7] }), 'trailing, with a run whose record changed no longer listed under metrics');
  await wait(60);
  assert.equal(emitted.length, 2, 'nothing more without changes');
  coalescer.push(change({ everything: true }));
  assert.equal(emitted.length, 3, 'after a quiet interval the next change is leading again');
  coalescer.dispose();
});

test('however fast changes come, emissions are at most one per interval, and go on while the load lasts', async () => {
  let emitted = 0;
  const coalescer = new ChangeCoalescer(() => emitted++, 50);
  const started = Date.now();
  // Pushes until ten emissions (a state, not a duration: a loaded machine only slows the timers down).
  while (emitted < 10 && Date.now() - started < 30_000) {
    coalescer.push(change({ metrics: [1] }));
    await wait(1);
  }
  const elapsed = Date.now() - started;
  coalescer.dispose();
  assert.equal(emitted, 10, `still refreshes while the load lasts (${emitted} emissions in ${elapsed} ms)`);
  assert.ok(emitted <= Math.ceil(elapsed / 50) + 1, `${emitted} emissions in ${elapsed} ms`);
});

test('empty changes and changes after dispose are not emitted', () => {
  let emitted = 0;
  const coalescer = new ChangeCoalescer(() => emitted++, 50);
  coalescer.push(change({}));
  assert.equal(emitted, 0);
  coalescer.dispose();
  coalescer.push(change({ runs: [1] }));
  assert.equal(emitted, 0);
});
