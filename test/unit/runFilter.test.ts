import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileRunFilter, parseOrderBy, parseRunFilter, RunFilterSyntaxError, type FilterableRun, type RunFilterOptions } from '../../src/shared/runFilter.ts';

const clauses = (text: string, options?: RunFilterOptions) => parseRunFilter(text, options).clauses.map(({ at: _at, ...c }) => c);
const one = (text: string, options?: RunFilterOptions) => clauses(text, options)[0];

/** The error's position and message, failing when the text parses. */
function refusal(text: string, options?: RunFilterOptions): { position: number; message: string } {
  try {
    parseRunFilter(text, options);
  } catch (err) {
    assert.ok(err instanceof RunFilterSyntaxError, String(err));
    assert.ok(!err.message.includes('\n'), 'one line');
    return { position: err.position, message: err.message };
  }
  assert.fail(`"${text}" parsed`);
}

test('every comparison operator on metrics, params, tags and attributes', () => {
  for (const op of ['=', '!=', '<', '<=', '>', '>='] as const) {
    assert.deepEqual(one(`metrics.acc ${op} 0.5`), { kind: 'metric', key: 'acc', test: { type: 'compare', op, value: 0.5 } });
    assert.deepEqual(one(`attributes.start_time ${op} 17`), { kind: 'attribute', attribute: 'start_time', test: { type: 'compare', op, value: 17 } });
  }
  assert.deepEqual(one('params.lr < 1e-3'), { kind: 'param', key: 'lr', test: { type: 'compare', op: '<', value: 0.001 } });
  assert.deepEqual(one("params.opt = 'adam'"), { kind: 'param', key: 'opt', test: { type: 'text', op: '=', value: 'adam' } });
  assert.deepEqual(one('params.lr != 0.10'), { kind: 'param', key: 'lr', test: { type: 'text', op: '!=', value: '0.10', number: 0.1 } });
  assert.deepEqual(one('tags.stage LIKE "pro%"'), { kind: 'tag', key: 'stage', test: { type: 'like', caseless: false, pattern: [{ literal: 'pro' }, '%'] } });
  assert.deepEqual(one("run_name ILIKE '50\\%_x'"), {
    kind: 'attribute',
    attribute: 'name',
    test: { type: 'like', caseless: true, pattern: [{ literal: '50%' }, '_', { literal: 'x' }] },
  });
  assert.deepEqual(one("attributes.run_id IN ('a1', 'b2')"), { kind: 'attribute', attribute: 'run_id', test: { type: 'in', negated: false, values: ['a1', 'b2'] } });
  assert.deepEqual(one('params.opt not in (adam, "sgd")'), { kind: 'param', key: 'opt', test: { type: 'in', negated: true, values: ['adam', 'sgd'] } });
  assert.deepEqual(one('metrics.loss IS NULL'), { kind: 'metric', key: 'loss', test: { type: 'present', negated: true } });
  assert.deepEqual(one('end_time is not null'), { kind: 'attribute', attribute: 'end_time', test: { type: 'present', negated: false } });
});

test('identifiers: every MLflow alias, quoted keys, dotted keys, bare attributes', () => {
  for (const entity of ['metric', 'metrics']) assert.equal(one(`${entity}.a > 1`)?.kind, 'metric');
  for (const entity of ['param', 'params', 'parameter', 'parameters']) assert.equal(one(`${entity}.a = '1'`)?.kind, 'param');
  for (const entity of ['tag', 'tags']) assert.equal(one(`${entity}.a = '1'`)?.kind, 'tag');
  for (const entity of ['attribute', 'attributes', 'attr', 'run']) assert.equal(one(`${entity}.status = 'FINISHED'`)?.kind, 'status');
  assert.deepEqual(one('metrics.`val loss` < 1'), { kind: 'metric', key: 'val loss', test: { type: 'compare', op: '<', value: 1 } });
  assert.deepEqual(one('params."my.key" = x'), { kind: 'param', key: 'my.key', test: { type: 'text', op: '=', value: 'x' } });
  assert.deepEqual(one('`metrics`.acc > 0'), { kind: 'metric', key: 'acc', test: { type: 'compare', op: '>', value: 0 } });
  assert.deepEqual(one('metrics.val/loss.epoch-1 < 2'), { kind: 'metric', key: 'val/loss.epoch-1', test: { type: 'compare', op: '<', value: 2 } });
  assert.deepEqual(one('`Run Name` = "x"'), { kind: 'attribute', attribute: 'name', test: { type: 'text', op: '=', value: 'x' } });
  assert.deepEqual(one('created > 5'), { kind: 'attribute', attribute: 'start_time', test: { type: 'compare', op: '>', value: 5 } });
  assert.deepEqual(one("params.q = 'it''s'"), { kind: 'param', key: 'q', test: { type: 'text', op: '=', value: "it's" } });
  assert.equal(clauses('metrics.a>1 AND metrics.b<2 and params.c=x').length, 3, 'AND in any case, no spaces needed around operators');
  assert.deepEqual(clauses('  '), [], 'an empty filter holds for every run');
});

test('status: MLflow names and Runboard names in any case; MLflow mode maps FAILED to failed and crashed', () => {
  assert.deepEqual(one('status = finished'), { kind: 'status', statuses: ['finished'] });
  assert.deepEqual(one("attributes.status = 'FINISHED'"), { kind: 'status', statuses: ['finished'] });
  assert.deepEqual(one('status = Scheduled'), { kind: 'status', statuses: ['queued'] });
  assert.deepEqual(one('status != running'), { kind: 'status', statuses: ['queued', 'finished', 'failed', 'killed', 'crashed'] });
  assert.deepEqual(one("status IN ('failed', 'CRASHED')"), { kind: 'status', statuses: ['failed', 'crashed'] });
  assert.deepEqual(one("status LIKE 'F%'"), { kind: 'status', statuses: ['finished', 'failed', 'crashed'] }, 'crashed reads as MLflow FAILED');
  assert.deepEqual(one("status = 'FAILED'", { strict: 'mlflow' }), { kind: 'status', statuses: ['failed', 'crashed'] });
  assert.deepEqual(one("status = 'finished'", { strict: 'mlflow' }), { kind: 'status', statuses: [] }, 'MLflow compares the exact name');
  assert.match(refusal('status = done').message, /unknown status "done": use queued, running, finished, failed, killed, crashed/);
});

test('errors: one line, with the position of the problem', () => {
  const cases: [string, number, RegExp][] = [
    ['params.lr <', 11, /expected a value after <.*found the end/],
    ['params.lr < 0.1 and', 19, /expected a condition after AND/],
    ['metrics.a > 1 OR metrics.b > 2', 14, /OR is not supported/],
    ['metrics.a > 1 metrics.b > 2', 14, /expected AND or the end, found "metrics.b"/],
    ["params.opt = 'adam", 13, /unclosed '/],
    ['metrics.acc ~ 1', 12, /unexpected character "~"/],
    ['metrics.acc 1', 12, /expected an operator/],
    ['metrics. > 1', 8, /name the key after "metrics."/],
    ['metric.acc > high', 0, /metrics.acc compares with a number, not "high"/],
    ['metrics.acc LIKE 1', 12, /LIKE does not apply to metrics/],
    ['params.opt < adam', 11, /< compares numbers: params.opt < needs a number, not "adam"/],
    ['params.opt IN adam', 14, /expected a list in parentheses after IN/],
    ["params.opt IN ('a' 'b')", 19, /expected "," or "\)" in the list/],
    ['lr < 0.1', 0, /unknown attribute "lr".*metrics.lr or params.lr/],
    ['foo.lr < 0.1', 0, /unknown "foo."/],
    ['datasets.name = "x"', 0, /not supported/],
    ['artifact_uri = "x"', 0, /cannot be filtered/],
    ['duration > soon', 0, /duration compares with a number/],
    ['(metrics.a > 1)', 0, /expected a key/],
    ['metrics.a IS 1', 13, /expected NULL or NOT NULL after IS/],
  ];
  for (const [text, position, message] of cases) {
    const error = refusal(text);
    assert.match(error.message, message, text);
    assert.equal(error.position, position, `${text}: ${error.message}`);
  }
});

test("strict 'mlflow' refuses what MLflow refuses, in MLflow's words", () => {
  const strict = { strict: 'mlflow' } as const;
  const cases: [string, RegExp][] = [
    ['params.lr < 0.1', /^Invalid comparator '<' not one of '\{'!=', '=', 'LIKE', 'ILIKE'\}'$/],
    ['params.lr = 0.1', /^Expected a quoted string value for parameter \(e.g. 'my-value'\). Got value 0.1$/],
    ['status = finished', /^Parameter value is either not quoted or unidentified quote types used for string value finished/],
    ["metrics.acc > 'x'", /^Expected numeric value type for metric. Found "x"$/],
    ["run_name IN ('a')", /^Only the 'run_id' attribute supports comparison with a list of quoted string values.$/],
    ["start_time > 'x'", /^Expected numeric value type for numeric attribute: start_time/],
    ['metrics.a IS NULL', /^Invalid clause\(s\) in filter string/],
    ['name = "x"', /^Invalid attribute key 'name' specified. Valid keys are/],
    ['thing.a = "x"', /^Invalid entity type 'thing'. Valid values are \['metric', 'parameter', 'tag', 'attribute', 'dataset'\]$/],
  ];
  for (const [text, message] of cases) assert.match(refusal(text, strict).message, message, text);
  // What MLflow reads, the strict mode reads alike.
  assert.equal(clauses("metrics.acc >= 0.9 AND params.opt = 'adam' and tags.x LIKE '%a' AND attributes.run_id IN ('ab')", strict).length, 4);
});

const run = (overrides: Partial<FilterableRun> = {}): FilterableRun => ({
  id: 1,
  name: 'resnet',
  experiment: 'vision',
  status: 'finished',
  startedAt: 1_000,
  endedAt: 61_000,
  params: { lr: '0.010', opt: 'adam' },
  metrics: { acc: 0.9, loss: null, div: Number.NaN, inf: Infinity },
  tags: {},
  user: 'ana',
  ...overrides,
});
const holds = (text: string, r = run()) => compileRunFilter(parseRunFilter(text))(r);

test('compileRunFilter: last values, NaN (null or NaN) and missing keys match no comparison, != included', () => {
  assert.equal(holds('metrics.acc >= 0.9 and params.lr < 0.1 and status = finished'), true);
  assert.equal(holds('metrics.acc > 0.9'), false);
  for (const key of ['loss', 'div', 'missing']) {
    for (const op of ['=', '!=', '<', '>']) assert.equal(holds(`metrics.${key} ${op} 0`), false, `${key} ${op}`);
  }
  assert.equal(holds('metrics.inf > 1e308'), true);
  assert.equal(holds('metrics.loss IS NOT NULL'), true, 'a NaN metric is there');
  assert.equal(holds('metrics.missing IS NULL'), true);
  assert.equal(holds('params.lr = 0.01'), true, '"0.010" is the number 0.01');
  assert.equal(holds("params.lr = '0.01'"), false, 'quoted text is exact');
  assert.equal(holds('params.opt != sgd'), true);
  assert.equal(holds('params.missing != sgd'), false);
  assert.equal(holds("params.opt LIKE 'AD%'"), false);
  assert.equal(holds("params.opt ILIKE 'AD%'"), true);
  assert.equal(holds('duration = 60'), true, 'in seconds');
  assert.equal(holds('duration > 10', run({ endedAt: null, startedAt: Date.now() - 20_000 })), true, 'a running run lasts until now');
  assert.equal(holds("user_id = 'ana' and run_id = '1'"), true);
  assert.equal(holds("run_id = 'abc'", run({ mlflowId: 'abc' })), true);
  assert.equal(holds('metrics.toString IS NULL'), true, 'keys are looked up as own properties');
});

test('parseOrderBy reads MLflow order_by items', () => {
  assert.deepEqual(parseOrderBy(['metrics.acc DESC', 'attributes.start_time', 'params.`my lr` asc', 'status desc']), [
    { target: { kind: 'metric', key: 'acc' }, descending: true },
    { target: { kind: 'attribute', attribute: 'start_time' }, descending: false },
    { target: { kind: 'param', key: 'my lr' }, descending: false },
    { target: { kind: 'status' }, descending: true },
  ]);
  assert.throws(() => parseOrderBy(['duration'], { strict: 'mlflow' }), /Invalid attribute key 'duration'/);
  assert.throws(() => parseOrderBy(['metrics.acc sideways']), /^RunFilterSyntaxError: Invalid order_by clause 'metrics.acc sideways'. Could not be parsed.$/);
});
