import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isEvaluationFile, parseEvaluation, runEvaluations, scoresFromMatrix } from '../../src/core/compare/evaluation.ts';
import { tempDir, tempStore } from './helpers.ts';

test('evaluation: file names that count', () => {
  for (const f of ['evaluation.json', 'artifacts/evaluation.json', 'evaluation-val.json', 'evaluation_test.json', 'val.evaluation.json', 'EVALUATION.JSON']) assert.ok(isEvaluationFile(f), f);
  for (const f of ['evaluations.json', 'evaluation.jsonl', '.evaluation.json', 'eval.json', 'metrics.json']) assert.ok(!isEvaluationFile(f), f);
});

test('evaluation: per-class scores and accuracy derived from the matrix like scikit-learn', () => {
  const e = parseEvaluation({ labels: ['cat', 'dog', 2], confusion_matrix: [[5, 1, 0], [2, 3, 0], [0, 0, 0]] });
  assert.deepEqual(e.labels, ['cat', 'dog', '2']);
  assert.equal(e.accuracy, 8 / 11);
  assert.equal(e.perClass.cat!.precision, 5 / 7);
  assert.equal(e.perClass.cat!.recall, 5 / 6);
  assert.equal(e.perClass.dog!.support, 5);
  assert.deepEqual(e.perClass['2'], { precision: 0, recall: 0, f1: 0, support: 0 });
  const [s] = scoresFromMatrix([[1, 1], [0, 0]]);
  assert.equal(s!.f1, (2 * 1 * 0.5) / 1.5);
});

test('evaluation: given per-class scores win; labels from per_class; partial entries filled', () => {
  const e = parseEvaluation({
    format: 'runboard.evaluation/1',
    title: 'val',
    confusion_matrix: [[9, 1], [1, 9]],
    per_class: { a: { precision: 0.5, recall: 0.25, f1: 0.3, support: 10 }, b: { precision: 0.8 } },
    accuracy: 0.91,
  });
  assert.deepEqual(e.labels, ['a', 'b']);
  assert.equal(e.title, 'val');
  assert.equal(e.accuracy, 0.91);
  assert.equal(e.perClass.a!.recall, 0.25);
  assert.equal(e.perClass.b!.precision, 0.8);
  assert.equal(e.perClass.b!.recall, 0.9);
  const only = parseEvaluation({ per_class: { x: { precision: 1, recall: 1, f1: 1, support: 3 } } });
  assert.deepEqual(only.confusionMatrix, []);
  assert.equal(only.accuracy, null);
});

test('evaluation: malformed documents are refused with a message that says what is wrong', () => {
  const bad: [unknown, RegExp][] = [
    [[], /JSON object/],
    [{}, /required/],
    [{ confusion_matrix: [[1, 2], [3]] }, /row 1 must have 2 numbers/],
    [{ confusion_matrix: [[1, -2], [3, 4]] }, /\[0\]\[1\] must be a non-negative number/],
    [{ labels: ['a'], confusion_matrix: [[1, 2], [3, 4]] }, /"labels" has 1 entries but the matrix is 2×2/],
    [{ labels: ['a', 'a'], confusion_matrix: [[1, 2], [3, 4]] }, /duplicates/],
    [{ format: 'other/2', confusion_matrix: [[1]] }, /unknown format/],
    [{ per_class: { a: { precision: 'high' } } }, /precision must be a non-negative number/],
  ];
  for (const [doc, message] of bad) assert.throws(() => parseEvaluation(doc), message, JSON.stringify(doc));
});

test('evaluation: read from recorded artifacts and the run folder, errors reported per file', async () => {
  const { store } = tempStore();
  const dir = tempDir();
  mkdirSync(join(dir, 'artifacts'));
  writeFileSync(join(dir, 'artifacts', 'evaluation.json'), JSON.stringify({ labels: ['<img src=x onerror=alert(1)>', 'b'], confusion_matrix: [[1, 0], [0, 1]] }));
  writeFileSync(join(dir, 'artifacts', 'evaluation-broken.json'), '{ nope');
  writeFileSync(join(dir, 'test.evaluation.json'), JSON.stringify({ confusion_matrix: [[2]] }));
  const run = store.createRun({ runDir: dir });
  store.addArtifact(run.id, { path: 'test.evaluation.json', size: 1, sha256: 'x', kind: 'data' });
  store.addArtifact(run.id, { path: 'gone.evaluation.json', size: 1, sha256: 'x', kind: 'data' });
  store.addArtifact(run.id, { path: '../outside.evaluation.json', size: 1, sha256: 'x', kind: 'data' });
  const out = await runEvaluations(store, store.run(run.id)!);
  assert.deepEqual(out.files.map((f) => f.path), ['artifacts/evaluation-broken.json', 'artifacts/evaluation.json', 'gone.evaluation.json', 'test.evaluation.json']);
  assert.match(out.files[0]!.error!, /not valid JSON/);
  assert.deepEqual(out.files[1]!.evaluation!.labels, ['<img src=x onerror=alert(1)>', 'b']);
  assert.match(out.files[2]!.error!, /gone from the run folder/);
  assert.equal(out.files[3]!.evaluation!.accuracy, 1);
  const none = await runEvaluations(store, store.createRun({}));
  assert.deepEqual(none.files, []);
});
