import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { exportFolder } from '../../src/core/compare/exportFolder.ts';
import { isRunboardData } from '../../src/core/launch/snapshot.ts';
import { tempDir } from './helpers.ts';

test('exports go to .runboard/exports/: made on demand, git-ignored, outside the code snapshot', () => {
  const workspace = tempDir();
  const folder = exportFolder(workspace);
  assert.equal(folder, join(workspace, '.runboard', 'exports'));
  assert.ok(lstatSync(folder).isDirectory());
  assert.match(readFileSync(join(workspace, '.runboard', '.gitignore'), 'utf8'), /^\*$/m);
  assert.equal(isRunboardData('.runboard/exports/loss.csv'), true);
  assert.equal(exportFolder(workspace), folder, 'a second call finds it');
});

test('exports are never made through a symbolic link', () => {
  const workspace = tempDir();
  const elsewhere = tempDir();
  mkdirSync(join(workspace, '.runboard'));
  symlinkSync(elsewhere, join(workspace, '.runboard', 'exports'));
  assert.throws(() => exportFolder(workspace), /symbolic link/);
  assert.equal(existsSync(join(elsewhere, 'exports')), false);
});
