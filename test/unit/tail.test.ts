import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileTail, readEnd } from '../../src/core/io/tail.ts';
import { tempDir } from './helpers.ts';

function tailOf(file: string) {
  const lines: string[] = [];
  let restarts = 0;
  const tail = new FileTail(file, { maxLineLength: 10, onLine: (line, overlong) => lines.push(overlong ? '<overlong>' : line), onRestart: () => restarts++ });
  return { tail, lines, restarts: () => restarts };
}

test('FileTail reads appends from where it stopped, keeping a partial last line until its newline', async () => {
  const file = join(tempDir(), 'log');
  writeFileSync(file, 'one\ntw');
  const { tail, lines } = tailOf(file);
  await tail.read(false);
  assert.deepEqual(lines, ['one']);
  appendFileSync(file, 'o\nthree is too long\nfo');
  await tail.read(false);
  assert.deepEqual(lines, ['one', 'two', '<overlong>']);
  assert.equal(tail.offset, 28);
  await tail.read(true);
  assert.deepEqual(lines, ['one', 'two', '<overlong>', 'fo'], 'the final read counts the partial line');
});

test('FileTail starts again from the top of a file that was truncated or replaced', async () => {
  const dir = tempDir();
  const file = join(dir, 'log');
  writeFileSync(file, 'a\nb\n');
  const { tail, lines, restarts } = tailOf(file);
  await tail.read(false);
  writeFileSync(file, 'c\n');
  await tail.read(false);
  assert.deepEqual(lines, ['a', 'b', 'c'], 'shrunk: read again');
  writeFileSync(join(dir, 'next'), 'c\nd\ne\n');
  renameSync(join(dir, 'next'), file);
  await tail.read(false);
  assert.deepEqual(lines, ['a', 'b', 'c', 'c', 'd', 'e'], 'rotated (a new file under the name): read again');
  writeFileSync(file, 'X\nd\ne\nf\n');
  await tail.read(false);
  assert.deepEqual(lines.slice(6), ['X', 'd', 'e', 'f'], 'rewritten with other first bytes: read again');
  assert.equal(restarts(), 4);
});

test('readEnd reads a bounded end of whole lines, and nothing for a missing file', () => {
  const dir = tempDir();
  const file = join(dir, 'log');
  writeFileSync(file, 'first line\nsecond\nthird\n');
  assert.deepEqual(readEnd(file, 1000), { text: 'first line\nsecond\nthird\n', cut: false });
  assert.deepEqual(readEnd(file, 10), { text: 'third\n', cut: true }, 'the cut line is dropped');
  assert.deepEqual(readEnd(file, 4), { text: '', cut: true }, 'no whole line fits');
  assert.equal(readEnd(join(dir, 'missing'), 10), undefined);
  mkdirSync(join(dir, 'folder'));
  assert.throws(() => readEnd(join(dir, 'folder'), 10), { code: 'EISDIR' });
});
