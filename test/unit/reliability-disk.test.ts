import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { AppendLog } from '../../src/core/io/appendLog.ts';
import { RunCapture } from '../../src/core/tracking/capture.ts';
import { tempStore } from './helpers.ts';

const asRoot = process.getuid?.() === 0;

/** A real, small file system (tmpfs of 4 MB), unmounted when the file's tests end. */
function smallDisk(): string {
  const dir = mkdtempSync(join(tmpdir(), 'runboard-disk-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', dir]);
  after(() => {
    execFileSync('umount', [dir]);
    rmdirSync(dir);
  });
  return dir;
}

/** Fills the disk holding `dir` to the last byte; removing the returned file gives the space back. */
function fill(dir: string): string {
  const filler = join(dir, 'filler');
  const fd = openSync(filler, 'w');
  const block = Buffer.alloc(4096, 1);
  try {
    for (;;) writeSync(fd, block);
  } catch (err) {
    assert.equal((err as NodeJS.ErrnoException).code, 'ENOSPC');
  } finally {
    closeSync(fd);
  }
  return filler;
}

const lines = (from: number, to: number) => Buffer.from(Array.from({ length: to - from }, (_, i) => `step=${from + i} loss=${1 / (from + i + 1)}\n`).join(''));
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a full disk under the run folder (a real tmpfs)', { skip: !asRoot && 'needs root to mount a tmpfs' }, () => {
  it('holds the log bytes while the disk is full and writes them all when space comes back', async () => {
    const { store } = tempStore(); // the database is on another disk, which has space
    const runDir = join(smallDisk(), 'run');
    mkdirSync(runDir);
    const run = store.createRun({ runDir });
    const capture = new RunCapture(store, { runId: run.id, runDir, watch: false });
    capture.stdout(lines(0, 1_000));
    await pause(150); // written
    const filler = fill(runDir);
    capture.stdout(lines(1_000, 40_000)); // more than a megabyte: a write is attempted and fails
    await pause(400);
    rmSync(filler);
    capture.stdout(lines(40_000, 50_000));
    await capture.close();
    assert.equal(readFileSync(join(runDir, 'stdout.log'), 'utf8'), lines(0, 50_000).toString(), 'the log is whole, not cut mid-line');
    assert.equal(store.summaries(run.id).loss!.count, 50_000);
  });

  it('states in the error how many bytes are missing from where when space never comes back, keeping all points', async () => {
    const { store } = tempStore();
    const runDir = join(smallDisk(), 'run');
    mkdirSync(runDir);
    const run = store.createRun({ runDir });
    const capture = new RunCapture(store, { runId: run.id, runDir, watch: false });
    capture.stdout(lines(0, 1_000));
    await pause(150);
    fill(runDir);
    capture.stdout(lines(1_000, 2_000));
    const closed = await capture.close().then(() => undefined, (err: Error) => err);
    const all = lines(0, 2_000);
    const log = readFileSync(join(runDir, 'stdout.log'));
    assert.ok(log.length >= lines(0, 1_000).length && log.length < all.length);
    assert.deepEqual(log, all.subarray(0, log.length), 'what is in the log is exactly what came first');
    assert.equal(
      closed?.message,
      `stdout.log could not be written: ENOSPC: no space left on device, write; ${all.length - log.length} bytes of output are missing from byte ${log.length} on`,
    );
    assert.equal(store.summaries(run.id).loss!.count, 2_000);
  });

  it('holds at most its bound in memory: what comes beyond is counted as missing, and the log goes on after the gap', async () => {
    const disk = smallDisk();
    const file = join(disk, 'stdout.log');
    const log = new AppendLog(file, { maxHeldBytes: 1024 * 1024 + 256 * 1024 });
    log.write(Buffer.alloc(4096, 'a')); // one whole page of tmpfs: no room left in the file's last page
    log.flush();
    const filler = fill(disk);
    log.write(Buffer.alloc(1024 * 1024, 'b')); // a megabyte: written at once, refused, held
    for (let i = 0; i < 4; i++) log.write(Buffer.alloc(128 * 1024, 'b')); // two more are held, two dropped
    rmSync(filler);
    await pause(250); // past the retry interval
    log.write(Buffer.alloc(1024, 'c'));
    log.close();
    assert.equal(log.error?.code, 'ENOSPC');
    assert.match(log.error!.message, new RegExp(`; ${2 * 128 * 1024} bytes of output are missing from byte ${4096 + 1024 * 1024 + 2 * 128 * 1024} on$`));
    assert.equal(readFileSync(file, 'latin1'), 'a'.repeat(4096) + 'b'.repeat(1024 * 1024 + 2 * 128 * 1024) + 'c'.repeat(1024));
  });
});
