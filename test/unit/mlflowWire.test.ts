// Golden replay: the real MLflow 2.12.2 client's requests (test/fixtures/mlflow-wire/), one per
// endpoint, sent to `runboard serve` in the recorded order. Every endpoint the route table answers
// must give the recorded status and a response of the same shape (keys and value types).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { MLFLOW_ROUTES } from '../../src/core/mlflow/routeTable.ts';
import { mlflowServer, type Caller } from './mlflowHarness.ts';

interface Sample {
  method: string;
  path: string;
  query: string | null;
  status: number;
  req_body: string | null;
  resp_body: string | null;
}

const SAMPLES = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'mlflow-wire', 'samples_v2.12.2.jsonl'), 'utf8')
  .split('\n')
  .filter((line) => line.trim())
  .map((line) => JSON.parse(line) as Sample);

// Artifacts, log-inputs, log-model and the registry have their own replay, which uploads what they need first (mlflowRegistryWire.test.ts).
const OWN_REPLAY = new Set(
  readFileSync(join(import.meta.dirname, '..', 'fixtures', 'mlflow-wire', 'artifacts_registry_v2.12.2.jsonl'), 'utf8')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => `${(JSON.parse(line) as Sample).method} ${(JSON.parse(line) as Sample).path}`),
);

const covered = (sample: Sample) => !OWN_REPLAY.has(`${sample.method} ${sample.path}`) && MLFLOW_ROUTES.some((r) => r.method === sample.method && (r.prefix ? sample.path.startsWith(r.path) : sample.path === r.path));

/** The JSON's shape: key sets and value types, arrays by their first element. */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.length ? [shape(value[0])] : [];
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.keys(value).sort().map((k) => [k, shape((value as Record<string, unknown>)[k])]));
  return typeof value;
}

/** Every key anywhere in a JSON value. */
function keysOf(value: unknown, into = new Set<string>()): Set<string> {
  if (Array.isArray(value)) value.forEach((v) => keysOf(v, into));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      into.add(k);
      keysOf(v, into);
    }
  }
  return into;
}

/** Where an experiment id appears: a field, a list of them, an artifact path or URI. */
const EXPERIMENT_ID = /((?:experiment_id"?(?::\s*"|=))|(?:experiment_ids"?:\s*\[")|(?:artifacts\/)|(?:artifacts:\/)|(?:path=))(\d+)(?=["&/%]|$)/g;

/** Recorded ids → ours: experiments and runs are created here first, then substituted everywhere. */
class IdMap {
  private readonly experiments = new Map<string, string>();
  private readonly runs = new Map<string, string>();
  private readonly call: Caller;

  constructor(call: Caller) {
    this.call = call;
  }

  substitute(text: string): string {
    return text
      .replace(/\b[0-9a-f]{32}\b/g, (id) => this.runs.get(id) ?? id)
      .replace(EXPERIMENT_ID, (_all, before: string, id: string) => `${before}${this.experiments.get(id) ?? id}`);
  }

  /** Creates what the sample names but the replay has not created yet. */
  async prepare(sample: Sample): Promise<void> {
    const text = `${sample.path} ${sample.query ?? ''} ${sample.req_body ?? ''}`;
    for (const [, , experiment] of text.matchAll(EXPERIMENT_ID)) {
      if (!this.experiments.has(experiment!)) {
        const created = await this.call('POST', 'experiments/create', { name: `replayed-${experiment}` });
        this.experiments.set(experiment!, created.json.experiment_id as string);
      }
    }
    for (const [run] of text.matchAll(/\b[0-9a-f]{32}\b/g)) {
      if (!this.runs.has(run)) {
        const created = await this.call('POST', 'runs/create', { experiment_id: this.experiments.values().next().value ?? '0', run_name: 'replayed', start_time: 1 });
        this.runs.set(run, (created.json.run as { info: { run_id: string } }).info.run_id);
      }
    }
  }

  /** Learns the ids a creating call answered with. */
  learn(sample: Sample, answer: Record<string, unknown>): void {
    const recorded = /"(?:experiment_id|run_uuid)": "([0-9a-f]+)"/.exec(sample.resp_body ?? '')?.[1];
    if (!recorded || !sample.path.endsWith('/create')) return;
    if (answer.experiment_id) this.experiments.set(recorded, answer.experiment_id as string);
    const run = (answer.run as { info: { run_id: string } } | undefined)?.info.run_id;
    if (run) this.runs.set(recorded, run);
  }
}

test('every recorded request the server covers gets the recorded status and a response of the recorded shape', async () => {
  const { call } = await mlflowServer();
  const ids = new IdMap(call);
  const replayed: string[] = [];
  for (const sample of SAMPLES.filter(covered)) {
    await ids.prepare(sample);
    const fields = sample.method === 'GET'
      ? Object.fromEntries(new URLSearchParams(ids.substitute(sample.query ?? '')))
      : (JSON.parse(ids.substitute(sample.req_body ?? '{}')) as Record<string, unknown>);
    if (sample.path.endsWith('metrics/get-history')) {
      // Its points came from a log-batch the recording keeps no sample of: log a few the same way.
      const metrics = [0, 1, 2].map((step) => ({ key: fields.metric_key, value: step, timestamp: 0, step }));
      await call('POST', 'runs/log-batch', { run_id: fields.run_id, metrics });
    }
    const answer = await call(sample.method, sample.path, fields);
    const what = `${sample.method} ${sample.path}`;
    assert.equal(answer.status, sample.status, `${what}: ${JSON.stringify(answer.json)}`);
    let expected: unknown;
    try {
      expected = JSON.parse(sample.resp_body ?? '{}');
    } catch {
      // Cut at 600 characters: every key the recorded part shows must be in ours.
      const missing = [...(sample.resp_body ?? '').matchAll(/"([\w.]+)":/g)].map((m) => m[1]!).filter((k) => !keysOf(answer.json).has(k));
      assert.deepEqual(missing, [], `${what}: keys of the recorded answer that ours lacks`);
      ids.learn(sample, answer.json);
      replayed.push(what);
      continue;
    }
    assert.deepEqual(shape(answer.json), shape(expected), what);
    ids.learn(sample, answer.json);
    replayed.push(what);
  }
  for (const endpoint of ['experiments/get-by-name', 'experiments/create', 'experiments/get', 'experiments/search', 'experiments/set-experiment-tag', 'runs/create', 'runs/get', 'runs/update', 'runs/log-metric', 'runs/log-parameter', 'runs/set-tag', 'runs/log-batch', 'runs/search', 'metrics/get-history']) {
    assert.ok(replayed.some((r) => r.endsWith(`/api/2.0/mlflow/${endpoint}`)), `${endpoint} was replayed`);
  }
});
