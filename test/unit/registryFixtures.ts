import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { sha256File } from '../../src/core/registry/registry.ts';
import type { Store } from '../../src/core/store/store.ts';
import type { Run } from '../../src/core/store/types.ts';

/** Debian's Python, the one with scikit-learn. */
export const SYSTEM_PYTHON = '/usr/bin/python3';

// Two logistic regressions on one generated dataset; the expected answers come from the models themselves.
const TRAIN = `
import json, pickle, sys
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
out = sys.argv[1]
X, y = make_classification(n_samples=300, n_features=4, n_informative=3, n_redundant=0, random_state=7)
with open(out + "/train.csv", "w") as f:
    for row, label in zip(X.tolist(), y.tolist()):
        f.write(",".join(repr(v) for v in row) + "," + str(label) + "\\n")
rows = X[:12].tolist()
expected = {"rows": rows}
for key, C in (("a", 1.0), ("b", 0.001)):
    model = LogisticRegression(C=C).fit(X, y)
    with open("%s/model_%s.pkl" % (out, key), "wb") as f:
        pickle.dump(model, f)
    expected[key] = {"predictions": model.predict(rows).tolist(), "probabilities": model.predict_proba(rows).tolist(),
                     "accuracy": model.score(X, y)}
json.dump(expected, open(out + "/expected.json", "w"))
`;

export interface Expected {
  rows: number[][];
  a: { predictions: number[]; probabilities: number[][]; accuracy: number };
  b: { predictions: number[]; probabilities: number[][]; accuracy: number };
}

/** Trains two real scikit-learn models into `dir` (model_a.pkl, model_b.pkl, train.csv). */
export function trainModels(dir: string): Expected {
  execFileSync(SYSTEM_PYTHON, ['-c', TRAIN, dir], { stdio: ['ignore', 'ignore', 'pipe'] });
  return JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as Expected;
}

export const COMMIT = '3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39';

/**
 * A finished run recorded through the Store API the way a launch records one: output folder with
 * the model artifact, an input fingerprint, the commit and patch, metrics.
 */
export function recordRun(
  store: Store,
  workspace: string,
  spec: { model: string; data?: string; name?: string; profile?: string; metrics?: Record<string, number>; environment?: Record<string, unknown> },
): Run {
  const run = store.createRun({ name: spec.name, profile: spec.profile, command: [SYSTEM_PYTHON, 'train.py'] });
  const runDir = join(workspace, '.runboard', 'runs', String(run.id));
  mkdirSync(runDir, { recursive: true });
  store.setRunDir(run.id, runDir);
  store.markStarted(run.id, null);
  copyFileSync(spec.model, join(runDir, 'model.pkl'));
  store.addArtifact(run.id, { path: 'model.pkl', size: statSync(join(runDir, 'model.pkl')).size, sha256: sha256File(join(runDir, 'model.pkl')), kind: 'model' });
  if (spec.data) store.addInput(run.id, { path: 'data/train.csv', fingerprint: sha256File(spec.data), size: statSync(spec.data).size });
  store.setCodeState(run.id, { commit: COMMIT, branch: 'main', dirty: true, patch: 'diff --git a/train.py b/train.py\n+C = 1.0\n', patchTruncated: false });
  if (spec.environment) store.setEnvironment(run.id, spec.environment);
  store.logMetrics(run.id, Object.entries(spec.metrics ?? {}).map(([key, value]) => ({ key, step: 0, value })));
  store.markEnded(run.id, { status: 'finished', exitCode: 0 });
  return store.run(run.id)!;
}
