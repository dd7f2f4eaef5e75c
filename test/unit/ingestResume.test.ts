import assert from 'node:assert/strict';
import { appendFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { RunCapture } from '../../src/core/tracking/capture.ts';
import { tempDir, tempStore } from './helpers.ts';
import { waitFor } from './launchHelpers.ts';

const lines = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `loss=${from + i}\n`).join('');

it('a capture resumed from its checkpoints stores exactly the log lines past them, with the steps counted on', async () => {
  const { store } = tempStore();
  const runDir = tempDir();
  const run = store.createRun({ runDir });
  const recorder = new RunCapture(store, { runId: run.id, runDir, watch: false });
  recorder.stdout(Buffer.from(lines(0, 1000)));
  await waitFor(() => store.summaries(run.id).loss?.count === 1000, 5_000, 'the first batch');
  assert.deepEqual(store.ingest.checkpoints(run.id).get('stdout.log'), { bytes: Buffer.byteLength(lines(0, 1000)), lines: 1000 });
  // The recorder dies after writing more of the log, before storing its points; one line is cut.
  appendFileSync(join(runDir, 'stdout.log'), lines(1000, 1500) + 'loss=15');

  await new RunCapture(store, { runId: run.id, runDir, watch: false, resume: store.ingest.checkpoints(run.id) }).close();
  const series = store.series(run.id, 'loss');
  assert.equal(series.length, 1501);
  assert.ok(series.every((p, i) => p.step === i && p.value === (i === 1500 ? 15 : i)), 'each line at its own counted step, none twice');
  assert.deepEqual(store.captureReaders.counts(run.id), { pairs: 1501 }, 'replayed lines are not counted again');
  assert.deepEqual(store.ingest.open(), [], 'the capture is complete');
});

it('points wait while their console log cannot be written: never stored ahead of the write-ahead record', async () => {
  const { store } = tempStore();
  const runDir = tempDir();
  symlinkSync('/dev/full', join(runDir, 'stdout.log'));
  const run = store.createRun({ runDir });
  const capture = new RunCapture(store, { runId: run.id, runDir, watch: false });
  capture.stdout(Buffer.from(lines(0, 100)));
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(store.summaries(run.id).loss, undefined, 'nothing stored while stdout.log refuses its bytes');
  await assert.rejects(capture.close(), /stdout\.log could not be written/);
  assert.equal(store.summaries(run.id).loss?.count, 100, 'the last flush stores them, and the run says the log is incomplete');
});
