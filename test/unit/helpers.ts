import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import type { MetricPoint, NewRun } from '../../src/core/store/types.ts';

/** A fresh folder removed when the test file ends. */
export function tempDir(prefix = 'runboard-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A real SQLite store in a temporary workspace (`<ws>/.runboard/runboard.db`). */
export function tempStore(): { store: Store; dbPath: string; workspace: string } {
  const workspace = tempDir();
  const dbPath = join(workspace, '.runboard', 'runboard.db');
  const store = Store.open(dbPath);
  after(() => store.close());
  return { store, dbPath, workspace };
}

/** A run with params and a series per metric, for read-side tests. */
export function buildRun(store: Store, spec: NewRun & { series?: Record<string, number[]> } = {}) {
  const run = store.createRun({ command: ['python3', 'train.py'], ...spec });
  const points: MetricPoint[] = Object.entries(spec.series ?? {}).flatMap(([key, values]) =>
    values.map((value, step) => ({ key, step, value, wall: 1_700_000_000_000 + step })),
  );
  store.logMetrics(run.id, points);
  return run;
}
