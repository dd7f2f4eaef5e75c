import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

const root = join(import.meta.dirname, '..', '..');

test('every picture the README shows exists, in both themes', () => {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const sources = [...readme.matchAll(/(?:srcset|src)="([^"]+\.png)"/g)].map((m) => m[1]!);
  assert.ok(sources.length >= 8, `the README shows ${sources.length} screenshots`);
  for (const source of sources) assert.ok(existsSync(join(root, source)), `${source} is missing: run npm run demo`);
  for (const source of sources.filter((s) => s.includes('/dark/'))) assert.ok(sources.includes(source.replace('/dark/', '/light/')), `${source} has no light twin`);
});
