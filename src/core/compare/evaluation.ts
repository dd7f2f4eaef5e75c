/**
 * Evaluation artifacts: a confusion matrix and per-class scores that a run writes as JSON, shown
 * side by side in the Compare panel's Evaluation tab.
 *
 * ## Format (`evaluation.json`)
 *
 * A run artifact whose file name is `evaluation.json`, `evaluation-NAME.json`,
 * `evaluation_NAME.json` or `NAME.evaluation.json` (anywhere in the run folder; one per split or
 * model is fine). UTF-8 JSON, at most 8 MiB:
 *
 * ```json
 * {
 *   "format": "runboard.evaluation/1",          // optional, recommended
 *   "title": "validation",                       // optional
 *   "labels": ["cat", "dog", "bird"],            // class names, in matrix order (strings or numbers)
 *   "confusion_matrix": [[50, 2, 0],             // rows: true class, columns: predicted class;
 *                        [3, 45, 2],             // counts (non-negative numbers), labels.length²
 *                        [0, 1, 47]],
 *   "per_class": {                               // optional: computed from the matrix when absent
 *     "cat": {"precision": 0.943, "recall": 0.962, "f1": 0.952, "support": 52}
 *   },
 *   "accuracy": 0.947                            // optional: trace / total when absent
 * }
 * ```
 *
 * `labels` may be left out when `per_class` is given (its keys, in order) or replaced by indices
 * 0…n-1 when only the matrix is there. Per-class entries missing a score get it from the matrix.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Store } from '../store/store.ts';
import type { Run } from '../store/types.ts';
import type { ClassScores, Evaluation, EvaluationFile, RunEvaluations } from '../../shared/compareProtocol.ts';

export const EVALUATION_FORMAT = 'runboard.evaluation/1';
export const MAX_EVALUATION_BYTES = 8 * 1024 * 1024;
/** More classes than this cannot be read as a matrix on screen: refused with a clear message. */
export const MAX_CLASSES = 200;

export function isEvaluationFile(path: string): boolean {
  const name = basename(path).toLowerCase();
  return /^evaluation([-_].+)?\.json$/.test(name) || /.\.evaluation\.json$/.test(name);
}

export class EvaluationFormatError extends Error {}

const fail = (message: string): never => {
  throw new EvaluationFormatError(message);
};

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Validates a parsed evaluation document and fills what can be derived from the matrix. */
export function parseEvaluation(doc: unknown): Evaluation {
  if (!isRecord(doc)) return fail('an evaluation is a JSON object');
  if (doc.format !== undefined && doc.format !== EVALUATION_FORMAT) fail(`unknown format "${String(doc.format)}" (expected "${EVALUATION_FORMAT}")`);
  const matrixDoc = doc.confusion_matrix ?? doc.confusionMatrix;
  const perClassDoc = doc.per_class ?? doc.perClass;
  if (matrixDoc === undefined && perClassDoc === undefined) fail('"confusion_matrix" or "per_class" is required');

  let labels: string[] | undefined;
  if (doc.labels !== undefined) {
    if (!Array.isArray(doc.labels) || !doc.labels.every((l) => typeof l === 'string' || typeof l === 'number' || typeof l === 'boolean')) {
      fail('"labels" must be a list of strings or numbers');
    }
    labels = (doc.labels as unknown[]).map(String);
    if (new Set(labels).size !== labels.length) fail('"labels" has duplicates');
  }

  let matrix: number[][] = [];
  if (matrixDoc !== undefined) {
    if (!Array.isArray(matrixDoc)) return fail('"confusion_matrix" must be a list of rows');
    const size = matrixDoc.length;
    if (size > MAX_CLASSES) fail(`"confusion_matrix" has ${size} classes; at most ${MAX_CLASSES} are shown`);
    matrix = matrixDoc.map((row, i) => {
      if (!Array.isArray(row) || row.length !== size) return fail(`"confusion_matrix" row ${i} must have ${size} numbers (the matrix is square)`);
      return row.map((v, j) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : fail(`"confusion_matrix"[${i}][${j}] must be a non-negative number`)));
    });
    if (labels && labels.length !== size) fail(`"labels" has ${labels.length} entries but the matrix is ${size}×${size}`);
    labels ??= perClassDoc !== undefined && isRecord(perClassDoc) && Object.keys(perClassDoc).length === size ? Object.keys(perClassDoc) : matrix.map((_, i) => String(i));
  }

  const derived = matrix.length ? scoresFromMatrix(matrix) : [];
  // Labels come from the user's file: a Map, so a class named `__proto__` or `constructor` is a class.
  const perClass = new Map<string, ClassScores>();
  if (perClassDoc !== undefined) {
    if (!isRecord(perClassDoc)) fail('"per_class" must be an object of label → scores');
    const entries = Object.entries(perClassDoc as Record<string, unknown>);
    if (entries.length > MAX_CLASSES) fail(`"per_class" has ${entries.length} classes; at most ${MAX_CLASSES} are shown`);
    labels ??= entries.map(([k]) => k);
    for (const [label, scores] of entries) {
      if (!isRecord(scores)) fail(`"per_class"."${label}" must be an object`);
      const index = labels!.indexOf(label);
      const fallback = index >= 0 ? derived[index] : undefined;
      const pick = (name: keyof ClassScores): number => {
        const v = (scores as Record<string, unknown>)[name];
        if (v === undefined || v === null) return fallback ? fallback[name] : NaN;
        if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) return fail(`"per_class"."${label}".${name} must be a non-negative number`);
        return v;
      };
      perClass.set(label, { precision: pick('precision'), recall: pick('recall'), f1: pick('f1'), support: pick('support') });
    }
  }
  labels!.forEach((label, i) => {
    if (!perClass.has(label) && derived[i]) perClass.set(label, derived[i]!);
  });

  let accuracy: number | null = null;
  if (doc.accuracy !== undefined && doc.accuracy !== null) {
    if (typeof doc.accuracy !== 'number' || !Number.isFinite(doc.accuracy)) fail('"accuracy" must be a number');
    accuracy = doc.accuracy as number;
  } else if (matrix.length) {
    const total = matrix.reduce((a, row) => a + row.reduce((x, y) => x + y, 0), 0);
    accuracy = total > 0 ? matrix.reduce((a, row, i) => a + row[i]!, 0) / total : null;
  }
  const title = typeof doc.title === 'string' ? doc.title : typeof doc.name === 'string' ? doc.name : null;
  return { labels: labels!, confusionMatrix: matrix, perClass: Object.fromEntries(perClass), accuracy, title };
}

/** Precision, recall, F1 and support of each class of a confusion matrix (0 where undefined, like scikit-learn). */
export function scoresFromMatrix(matrix: readonly (readonly number[])[]): ClassScores[] {
  return matrix.map((row, i) => {
    const tp = row[i]!;
    const support = row.reduce((a, b) => a + b, 0);
    const predicted = matrix.reduce((a, r) => a + r[i]!, 0);
    const precision = predicted > 0 ? tp / predicted : 0;
    const recall = support > 0 ? tp / support : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return { precision, recall, f1, support };
  });
}

/** Reads and validates one evaluation file; problems come back as `error`, never thrown. */
export async function readEvaluationFile(file: string, path: string): Promise<EvaluationFile> {
  try {
    const info = await stat(file);
    if (info.size > MAX_EVALUATION_BYTES) return { path, evaluation: null, error: `${path} is ${Math.round(info.size / 1024)} KiB; evaluations over ${MAX_EVALUATION_BYTES / 1024 / 1024} MiB are not read` };
    const text = await readFile(file, 'utf8');
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (err) {
      return { path, evaluation: null, error: `${path} is not valid JSON: ${(err as Error).message}` };
    }
    return { path, evaluation: parseEvaluation(doc), error: null };
  } catch (err) {
    if (err instanceof EvaluationFormatError) return { path, evaluation: null, error: `${path}: ${err.message}` };
    const code = (err as NodeJS.ErrnoException).code;
    return { path, evaluation: null, error: code === 'ENOENT' ? `${path} is gone from the run folder` : `${path} could not be read: ${(err as Error).message}` };
  }
}

/**
 * The evaluation files of a run: recorded artifacts named like one, plus any in the run folder's
 * `artifacts/` that capture has not recorded yet (a run still writing). Paths never leave the run folder.
 */
export async function runEvaluations(store: Store, run: Run): Promise<RunEvaluations> {
  if (!run.runDir) return { runId: run.id, files: [] };
  const root = resolve(run.runDir);
  const paths = new Set(store.artifacts(run.id).map((a) => a.path).filter(isEvaluationFile));
  try {
    for (const name of await readdir(join(root, 'artifacts'))) if (isEvaluationFile(name)) paths.add(`artifacts/${name}`);
  } catch {
    // No artifacts folder: only recorded artifacts count.
  }
  const files: EvaluationFile[] = [];
  for (const path of [...paths].sort()) {
    const file = resolve(root, path);
    const rel = relative(root, file);
    if (rel.startsWith(`..${sep}`) || rel === '..' || isAbsolute(rel)) continue;
    files.push(await readEvaluationFile(file, path));
  }
  return { runId: run.id, files };
}
