import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { cli, json } from './cliHarness.ts';
import { buildRun, tempDir } from './helpers.ts';

/** A finished run whose loss diverged (NaN), whose accuracy ended +Inf and whose error is only -Inf. */
function nonFiniteRun(): { db: string; cwd: string } {
  const cwd = tempDir();
  const db = join(cwd, 'runboard.db');
  const store = Store.open(db);
  const run = buildRun(store, { name: 'diverged', series: { loss: [0.1, NaN], acc: [0.95, Infinity], err: [-Infinity], ok: [0.2, 0.1] } });
  store.markEnded(run.id, { status: 'finished' });
  store.close();
  return { db, cwd };
}

describe('quality gates on NaN and ±Inf', () => {
  const { db, cwd } = nonFiniteRun();
  const check = (...conditions: string[]) => cli(['check', 'diverged', '--db', db, ...conditions.flatMap((c) => ['--metric', c])], { cwd });

  for (const condition of ['max(loss)<=0.3', 'min(loss)<=0.3', 'loss<=0.3', 'acc>=0.9', 'max(acc)>=0.9', 'err<=0.1', 'min(err)<=0.1', 'loss!=0']) {
    it(`never pass: ${condition}`, () => {
      const result = check(condition);
      assert.equal(result.code, 1, result.stdout);
      assert.match(result.stderr, /^FAIL {2}.*(NaN|Infinity).*which fails any condition\n$/);
    });
  }

  it('a series of finite points still passes, next to a failing one, and --json says why with "NaN"', () => {
    const result = cli(['check', 'diverged', '--db', db, '--metric', 'max(ok)<=0.3', '--metric', 'loss<=1', '--json'], { cwd });
    assert.equal(result.code, 1);
    assert.deepEqual(json(result).results, [
      { condition: 'max(ok)<=0.3', ok: true, actual: 0.2 },
      { condition: 'loss<=1', ok: false, actual: 'NaN' },
    ]);
  });

  it('every --json answer writes non-finite values as the strings "NaN", "Infinity", "-Infinity"', () => {
    const shown = json(cli(['show', 'diverged', '--db', db, '--json'], { cwd }));
    assert.deepEqual([shown.metrics.loss.last, shown.metrics.acc.last, shown.metrics.err.last], ['NaN', 'Infinity', '-Infinity']);
    const series = json(cli(['metrics', 'diverged', 'loss', '--db', db, '--json'], { cwd }));
    assert.deepEqual(series.points.map((p: { value: unknown }) => p.value), [0.1, 'NaN']);
    const envelope = json(cli(['metrics', 'diverged', 'acc', '--buckets', '1', '--db', db, '--json'], { cwd }));
    assert.equal(envelope.buckets[0].last, 'Infinity');
  });
});
