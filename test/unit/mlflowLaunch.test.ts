import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LAUNCHER_TAG } from '../../src/core/launch/lifecycle.ts';
import { reconcile } from '../../src/core/launch/reconcile.ts';
import { exportLine, mlflowClientEnv, MlflowLaunches } from '../../src/core/mlflow/launchEnv.ts';
import { startLaunchServer } from '../../src/core/mlflow/launchRoutes.ts';
import { Store } from '../../src/core/store/store.ts';
import { cli, json } from './cliHarness.ts';
import { tempDir } from './helpers.ts';
import { PY } from './launchHelpers.ts';

/** The real MLflow 2.12.2 client, where ../shared/mlflow-peer/setup.sh extracted it (never in CI). */
const MLFLOW_SRC = join(process.env.TMPDIR ?? '/tmp', 'mlflow-peer', 'mlflow-src');
const MLFLOW_PYTHONPATH = [MLFLOW_SRC, join(process.env.TMPDIR ?? '/tmp', 'mlflow-peer', 'pydeps')].join(':');
const realMlflow = existsSync(join(MLFLOW_SRC, 'mlflow', '__init__.py'));
const NO_PEER = `the real MLflow client is not set up here (${MLFLOW_SRC} is missing: run ../shared/mlflow-peer/setup.sh); the stdlib client variant covers the same calls`;

/**
 * The scenario, with MLflow's fluent API: resume the launched run, log a param, a tag and a metric
 * that is also printed (with other steps: the console's are epochs, MLflow's are epoch × 10), a
 * nested run, then end the run (FINISHED) and exit 3, as a script that crashes after logging does.
 */
const REAL_SCRIPT = `
import os, sys
import mlflow
with open(sys.argv[1], "w") as f:
    f.write(os.environ.get("MLFLOW_TRACKING_TOKEN", ""))
with mlflow.start_run() as run:
    mlflow.log_param("lr", "0.1")
    mlflow.set_tag("team", "vision")
    for epoch in range(3):
        print(f"epoch {epoch} loss {1.0 / (epoch + 1)} acc {0.5 + epoch / 10}", flush=True)
        mlflow.log_metric("loss", 1.0 / (epoch + 1), step=epoch * 10)
    with mlflow.start_run(nested=True, run_name="child"):
        mlflow.log_metric("child_acc", 0.9)
sys.exit(3)
`;

/** The same calls, in the order and shape the real client sends them (../shared/mlflow-peer/wire/endpoints_probe_v2.12.2.txt). */
const STDLIB_SCRIPT = `
import getpass, json, os, sys, time, urllib.parse, urllib.request
URI = os.environ["MLFLOW_TRACKING_URI"]
TOKEN = os.environ["MLFLOW_TRACKING_TOKEN"]
with open(sys.argv[1], "w") as f:
    f.write(TOKEN)

def call(method, path, body=None, query=None):
    url = URI + "/api/2.0/mlflow/" + path + ("?" + urllib.parse.urlencode(query) if query else "")
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read() or b"{}")

now = lambda: int(time.time() * 1000)
# mlflow.start_run() with MLFLOW_RUN_ID: get the run, set it RUNNING, keep its end_time.
run_id = os.environ["MLFLOW_RUN_ID"]
run = call("GET", "runs/get", query={"run_id": run_id, "run_uuid": run_id})["run"]
update = {"run_id": run_id, "run_uuid": run_id, "status": "RUNNING"}
if run["info"].get("end_time") is not None:
    update["end_time"] = run["info"]["end_time"]
call("POST", "runs/update", update)
call("POST", "runs/log-parameter", {"key": "lr", "run_id": run_id, "run_uuid": run_id, "value": "0.1"})
call("POST", "runs/set-tag", {"key": "team", "run_id": run_id, "run_uuid": run_id, "value": "vision"})
for epoch in range(3):
    print(f"epoch {epoch} loss {1.0 / (epoch + 1)} acc {0.5 + epoch / 10}", flush=True)
    call("POST", "runs/log-metric", {"key": "loss", "run_id": run_id, "run_uuid": run_id, "step": epoch * 10, "timestamp": now(), "value": 1.0 / (epoch + 1)})
# mlflow.start_run(nested=True, run_name="child")
tags = [{"key": "mlflow.parentRunId", "value": run_id}, {"key": "mlflow.runName", "value": "child"}, {"key": "mlflow.user", "value": getpass.getuser()}, {"key": "mlflow.source.type", "value": "LOCAL"}]
child = call("POST", "runs/create", {"experiment_id": os.environ["MLFLOW_EXPERIMENT_ID"], "run_name": "child", "start_time": now(), "tags": tags, "user_id": getpass.getuser()})["run"]["info"]["run_id"]
call("POST", "runs/log-batch", {"run_id": child, "metrics": [{"key": "child_acc", "value": 0.9, "timestamp": now(), "step": 0}], "params": [], "tags": []})
for ended in (child, run_id):
    call("POST", "runs/update", {"end_time": now(), "run_id": ended, "run_uuid": ended, "status": "FINISHED"})
sys.exit(3)
`;

function openDb(ws: string): Store {
  return Store.open(join(ws, '.runboard', 'runboard.db'));
}

/** Every byte of the database, its WAL included. */
function databaseBytes(ws: string): string {
  const file = join(ws, '.runboard', 'runboard.db');
  return ['', '-wal', '-shm'].map((suffix) => (existsSync(file + suffix) ? readFileSync(file + suffix).toString('latin1') : '')).join('');
}

function runScenario(script: string, env: Record<string, string> = {}) {
  const ws = tempDir();
  const tokenFile = join(tempDir(), 'token');
  writeFileSync(join(ws, 'train.py'), script);
  const result = cli(['run', '--experiment', 'mlflow', '--', PY, 'train.py', tokenFile], { cwd: ws, env });
  return { ws, result, token: readFileSync(tokenFile, 'utf8') };
}

function checkScenario({ ws, result, token }: ReturnType<typeof runScenario>): void {
  assert.equal(result.code, 3, result.stderr);
  assert.match(token, /^[0-9a-f]{16,}$/, 'the script saw a token');
  const store = openDb(ws);
  try {
    const runs = store.runs({});
    assert.equal(runs.length, 2, `one run and its child, not two top-level runs: ${runs.map((r) => r.name).join(', ')}`);
    const parent = runs.find((r) => r.parentId === null)!;
    const child = runs.find((r) => r.parentId === parent.id);
    assert.ok(child, 'the nested run is a child of the launched run');
    assert.equal(child.name, 'child');
    assert.equal(child.status, 'finished');
    assert.equal(parent.status, 'failed', 'the exit code decides, not the FINISHED of end_run');
    assert.equal(parent.exitCode, 3);
    assert.equal(parent.experiment, 'mlflow');
    assert.equal(store.params(parent.id).lr, '0.1');
    assert.equal(store.tags(parent.id).team, 'vision');
    assert.deepEqual(
      store.series(parent.id, 'loss').map((p) => p.step),
      [0, 10, 20],
      "MLflow's steps only: the printed loss is not a second, interleaved series",
    );
    assert.deepEqual(
      store.series(parent.id, 'acc').map((p) => p.step),
      [0, 1, 2],
      'a key only printed is still captured',
    );
    assert.equal(store.summaries(child.id).child_acc?.last, 0.9);
  } finally {
    store.close();
  }
  assert.ok(!databaseBytes(ws).includes(token), 'the token is not in the database');
  assert.ok(!result.stderr.includes(token) && !result.stdout.includes(token), 'nor in the output');
  const shown = cli(['show', '1', '--json'], { cwd: ws });
  assert.equal(shown.code, 0, shown.stderr);
  assert.ok(!shown.stdout.includes(token), 'nor in runboard show --json');
  assert.deepEqual(json(shown).command.slice(1, 2), ['train.py']);
}

test('a script speaking MLflow REST (stdlib client) under runboard run logs into the launched run: one run, a child, the exit decides', () => {
  checkScenario(runScenario(STDLIB_SCRIPT));
});

test('the real MLflow client under runboard run: start_run() resumes the launched run', { skip: realMlflow ? false : NO_PEER }, () => {
  checkScenario(runScenario(REAL_SCRIPT, { PYTHONPATH: MLFLOW_PYTHONPATH }));
});

const ENV_SCRIPT = `
import json, os, sys
with open(sys.argv[1], "w") as f:
    json.dump({k: v for k, v in os.environ.items() if k.startswith("MLFLOW_")}, f)
`;

test('--no-mlflow and a profile with "mlflow": false leave the user\'s own MLFLOW_* variables alone', () => {
  const ws = tempDir();
  writeFileSync(join(ws, 'env.py'), ENV_SCRIPT);
  mkdirSync(join(ws, '.runboard'));
  writeFileSync(
    join(ws, '.runboard', 'profiles.json'),
    JSON.stringify({ profiles: { own: { command: ['${interpreter}', 'env.py', '${param:out}'], interpreter: PY, mlflow: false, params: [{ name: 'out', type: 'string' }] } } }),
  );
  const own = { MLFLOW_TRACKING_URI: 'http://mlflow.example:5000', MLFLOW_TRACKING_TOKEN: 'mine' };
  const out = tempDir();
  const seen = (file: string) => JSON.parse(readFileSync(join(out, file), 'utf8')) as Record<string, string>;

  const flag = cli(['run', '--no-mlflow', '--', PY, 'env.py', join(out, 'flag.json')], { cwd: ws, env: own });
  assert.equal(flag.code, 0, flag.stderr);
  assert.deepEqual(seen('flag.json'), own);

  const profile = cli(['run', '--profile', 'own', '--param', `out=${join(out, 'profile.json')}`], { cwd: ws, env: own });
  assert.equal(profile.code, 0, profile.stderr);
  assert.deepEqual(seen('profile.json'), own);

  const given = cli(['run', '--', PY, 'env.py', join(out, 'given.json')], { cwd: ws, env: { ...own, MLFLOW_TRACKING_USERNAME: 'me', MLFLOW_TRACKING_PASSWORD: 'team' } });
  assert.equal(given.code, 0, given.stderr);
  const env = seen('given.json');
  assert.match(env.MLFLOW_TRACKING_URI!, /^http:\/\/127\.0\.0\.1:\d+$/, 'without the opt-out a launch points MLflow at Runboard');
  assert.notEqual(env.MLFLOW_TRACKING_TOKEN, 'mine');
  assert.equal(env.MLFLOW_TRACKING_USERNAME, undefined, "a username and password would make the client send them instead of Runboard's token");
  assert.equal(env.MLFLOW_TRACKING_PASSWORD, undefined);
  const store = openDb(ws);
  try {
    const run = store.runs({}).find((r) => r.command.includes(join(out, 'given.json')))!;
    assert.equal(env.MLFLOW_RUN_ID, run.mlflowId);
    assert.equal(env.MLFLOW_EXPERIMENT_ID, '0', "Runboard's Default experiment is MLflow's 0");
  } finally {
    store.close();
  }
});

test('a sweep shares one server: every run gets the same URI and token, and its own MLflow run id', () => {
  const ws = tempDir();
  const out = tempDir();
  writeFileSync(join(ws, 'env.py'), ENV_SCRIPT);
  mkdirSync(join(ws, '.runboard'));
  writeFileSync(
    join(ws, '.runboard', 'profiles.json'),
    JSON.stringify({
      profiles: { grid: { command: ['${interpreter}', 'env.py', `${out}/\${param:seed}.json`], interpreter: PY, experiment: 'sweeps', params: [{ name: 'seed', type: 'int', default: 0 }] } },
    }),
  );
  const result = cli(['sweep', '--profile', 'grid', '--grid', 'seed=1,2,3', '--parallel', '3'], { cwd: ws });
  assert.equal(result.code, 0, result.stderr);
  const envs = [1, 2, 3].map((seed) => JSON.parse(readFileSync(join(out, `${seed}.json`), 'utf8')) as Record<string, string>);
  assert.equal(new Set(envs.map((e) => e.MLFLOW_TRACKING_URI)).size, 1);
  assert.equal(new Set(envs.map((e) => e.MLFLOW_TRACKING_TOKEN)).size, 1);
  assert.equal(new Set(envs.map((e) => e.MLFLOW_RUN_ID)).size, 3);
  const store = openDb(ws);
  try {
    const experiment = store.runs({}).find((r) => r.experiment === 'sweeps')!;
    assert.ok(envs.every((e) => e.MLFLOW_EXPERIMENT_ID === String(experiment.experimentId)));
  } finally {
    store.close();
  }
});

test('a batch the server refuses takes nothing from capture: the printed series stays whole', () => {
  const ws = tempDir();
  writeFileSync(
    join(ws, 'train.py'),
    `
import json, os, time, urllib.error, urllib.request
run_id = os.environ["MLFLOW_RUN_ID"]
for epoch in range(3):
    print(f"epoch {epoch} loss {1.0 / (epoch + 1)}", flush=True)
time.sleep(0.5)  # capture stores the printed points before the batch arrives
body = {"run_id": run_id, "metrics": [{"key": "loss", "value": 0.1, "timestamp": 1, "step": 30}], "params": [{"key": "p", "value": "1"}, {"key": "p", "value": "2"}], "tags": []}
request = urllib.request.Request(os.environ["MLFLOW_TRACKING_URI"] + "/api/2.0/mlflow/runs/log-batch", data=json.dumps(body).encode(), method="POST",
    headers={"Authorization": "Bearer " + os.environ["MLFLOW_TRACKING_TOKEN"], "Content-Type": "application/json"})
try:
    urllib.request.urlopen(request)
    raise SystemExit("the duplicate param keys were accepted")
except urllib.error.HTTPError as refused:
    assert refused.code == 400, refused.code
print("epoch 3 loss 0.2", flush=True)
`,
  );
  const result = cli(['run', '--', PY, 'train.py'], { cwd: ws });
  assert.equal(result.code, 0, result.stderr);
  const store = openDb(ws);
  try {
    const run = store.runs({})[0]!;
    assert.deepEqual(
      store.series(run.id, 'loss').map((p) => p.step),
      [0, 1, 2, 3],
    );
  } finally {
    store.close();
  }
});

test('a nested run still active when the process dies ends with the launched run', () => {
  const ws = tempDir();
  writeFileSync(
    join(ws, 'train.py'),
    `
import json, os, time, urllib.request
def call(path, body):
    request = urllib.request.Request(os.environ["MLFLOW_TRACKING_URI"] + "/api/2.0/mlflow/" + path, data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": "Bearer " + os.environ["MLFLOW_TRACKING_TOKEN"], "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return json.loads(response.read())
tags = [{"key": "mlflow.parentRunId", "value": os.environ["MLFLOW_RUN_ID"]}]
call("runs/create", {"experiment_id": os.environ["MLFLOW_EXPERIMENT_ID"], "run_name": "orphan", "start_time": int(time.time() * 1000), "tags": tags})
os._exit(7)  # no atexit hook ends it
`,
  );
  const result = cli(['run', '--', PY, 'train.py'], { cwd: ws });
  assert.equal(result.code, 7, result.stderr);
  const store = openDb(ws);
  try {
    const child = store.runs({}).find((r) => r.name === 'orphan')!;
    assert.equal(child.status, 'failed');
    assert.match(child.error ?? '', /parent run \d+ ended \(failed\)/);
  } finally {
    store.close();
  }
});

test('crash reconciliation ends the nested runs of a run whose recorder and process died', async () => {
  const ws = tempDir();
  const store = Store.open(join(ws, 'runboard.db'));
  try {
    const gone = spawnSync(PY, ['-c', 'pass']).pid!;
    const parent = store.createRun({ experiment: 'e', status: 'queued', command: [PY, 'train.py'] });
    store.setTags(parent.id, { [LAUNCHER_TAG]: gone });
    store.claimRun(parent.id);
    store.setRunPid(parent.id, gone);
    const nested = store.createRun({ experiment: 'e', status: 'running', parentId: parent.id, name: 'nested' });
    const { ended } = await reconcile(store);
    assert.deepEqual(ended.map((r) => r.id), [parent.id]);
    const child = store.run(nested.id)!;
    assert.equal(child.status, 'crashed');
    assert.match(child.error ?? '', new RegExp(`parent run ${parent.id} ended \\(crashed\\)`));
  } finally {
    store.close();
  }
});

test("a process's launches share one server, started on first need; a failed start is tried again; close stops it", async () => {
  const store = Store.open(join(tempDir(), 'runboard.db'));
  let starts = 0;
  const launches = new MlflowLaunches((self) => {
    starts++;
    return starts === 1 ? Promise.reject(new Error('no port today')) : startLaunchServer(store, self);
  });
  try {
    assert.equal(launches.started, undefined);
    await assert.rejects(launches.endpoint(), /no port today/);
    const [first, second] = await Promise.all([launches.endpoint(), launches.endpoint()]);
    assert.equal(first, second);
    assert.equal(starts, 2);
    const experiment = `${first.url}/api/2.0/mlflow/experiments/get?experiment_id=0`;
    assert.equal((await fetch(experiment, { headers: { Authorization: `Bearer ${first.token}` } })).status, 200);
    await launches.close();
    await assert.rejects(fetch(experiment, { headers: { Authorization: `Bearer ${first.token}` } }));
    await assert.rejects(launches.endpoint(), /closed/);
  } finally {
    await launches.close();
    store.close();
  }
});

test('the export line Copy MLflow Tracking URI offers survives a POSIX shell whatever the values hold', () => {
  const tricky = "it's $HOME `id` \\ done";
  const line = exportLine(mlflowClientEnv({ url: 'http://127.0.0.1:1', token: tricky }));
  const shell = spawnSync('/bin/sh', ['-c', `${line}; printf '%s|%s' "$MLFLOW_TRACKING_URI" "$MLFLOW_TRACKING_TOKEN"`], { encoding: 'utf8' });
  assert.equal(shell.stdout, `http://127.0.0.1:1|${tricky}`);
});
