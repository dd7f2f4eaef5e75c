// `npm run test:sync-peer`: Runboard pushes to and pulls from the real `mlflow server` 2.12.2, on
// SQLite and then on PostgreSQL, read back with the real Python client. Run by test/peer/syncRun.ts.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Registry } from '../../src/core/registry/registry.ts';
import type { Store } from '../../src/core/store/store.ts';
import type { Run } from '../../src/core/store/types.ts';
import { MlflowClient } from '../../src/core/sync/client.ts';
import { pullRuns } from '../../src/core/sync/pull.ts';
import { pushRuns, selectRuns } from '../../src/core/sync/push.ts';
import { tempStore } from '../unit/helpers.ts';
import { buildPushable, faultProxy, sha256 } from '../unit/syncHarness.ts';
import { runPython, startRealMlflow, type Served } from './peer.ts';

const PG_BIN = '/usr/lib/postgresql/15/bin';

/** A throwaway PostgreSQL cluster (run as the postgres user), or why there cannot be one here. */
function startPostgres(): { uri: string; stop: () => void } | string {
  if (!existsSync(join(PG_BIN, 'pg_ctl'))) return `no PostgreSQL in ${PG_BIN} (apt-get install -y postgresql)`;
  if (spawnSync('/usr/bin/python3', ['-c', 'import psycopg2']).status !== 0) return 'python3-psycopg2 is missing (apt-get install -y python3-psycopg2)';
  if (userInfo().uid !== 0) return 'PostgreSQL runs as the postgres user: run as root to start a throwaway cluster';
  const dir = mkdtempSync(join(tmpdir(), 'runboard-pg-'));
  const postgres = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  chownSync(dir, Number(postgres.stdout.trim()), Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim()));
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const asPostgres = (command: string) => execFileSync('su', ['postgres', '-s', '/bin/sh', '-c', command], { stdio: 'pipe' });
  asPostgres(`${PG_BIN}/initdb -D ${dir}/data -A trust -U postgres >/dev/null`);
  asPostgres(`${PG_BIN}/pg_ctl -D ${dir}/data -l ${dir}/log -w -o "-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir}" start >/dev/null`);
  asPostgres(`${PG_BIN}/createdb -h 127.0.0.1 -p ${port} -U postgres mlflow`);
  return { uri: `postgresql://postgres@127.0.0.1:${port}/mlflow`, stop: () => asPostgres(`${PG_BIN}/pg_ctl -D ${dir}/data -m fast stop >/dev/null`) };
}

interface ReadBack {
  runs: Record<string, { name: string; status: string; start_time: number; end_time: number | null; user: string; params: Record<string, string>; tags: Record<string, string>; metrics: Record<string, [number, number | string, number][]>; artifacts: Record<string, string> }>;
  aliases: Record<string, { version: string; run_id: string; sha256: string }>;
}

/** MLflow on SQL stores keeps NaN but clamps ±Inf to ±1.7976931348623157e308 (see ../shared/mlflow-peer/README.md). */
const asMlflowKeeps = (value: number): number | string => (Number.isNaN(value) ? 'NaN' : value === Infinity ? 1.7976931348623157e308 : value === -Infinity ? -1.7976931348623157e308 : value);

async function roundTrip(label: string, backend: string | undefined): Promise<void> {
  const { store, workspace } = tempStore();
  const { run, child, artifact } = buildPushable(store, { points: 5000 });
  store.markEnded(run.id, { status: 'finished' });
  const registry = new Registry(store, workspace);
  const version = registry.register({ name: 'churn', run: run.id, artifact: 'artifacts/model.txt', aliases: ['champion'] });
  const served: Served = await startRealMlflow(mkdtempSync(join(tmpdir(), 'runboard-mlflow-')), backend);
  try {
    const client = new MlflowClient({ url: served.url, retries: 2, backoffMs: 200 });
    // Interrupted first: the answer to the third metric batch is lost (MLflow stored it), through a proxy.
    const proxy = await faultProxy(served.url);
    proxy.dropAnswerOfBatch = 3;
    const cut = await pushRuns(store, new MlflowClient({ url: proxy.url, retries: 0 }), selectRuns(store, { all: true }));
    assert.match(cut.failure ?? '', /^cannot reach the MLflow server/);
    await proxy.close();
    // Resumed at the server's own URL: the runs are found by their tag, the lost batch is not sent again.
    const pushed = await pushRuns(store, client, selectRuns(store, { all: true }));
    assert.equal(pushed.failure, undefined);
    assert.equal(pushed.sent.points + cut.sent.points + 1000, 5501, 'every point sent once over both pushes');
    assert.deepEqual(pushed.problems, []);
    const again = await pushRuns(store, client, selectRuns(store, { all: true }));
    assert.equal(again.sent.runs, 0, 'a second push sends nothing');

    const ids = [run, child].map((r) => store.sync.link(r.id, served.url)!.remoteRunId!);
    const readback = await runPython(join(import.meta.dirname, 'syncReadback.py'), served, { args: [JSON.stringify({ runs: ids, aliases: ['churn@champion'] })] });
    assert.equal(readback.code, 0, readback.stderr);
    const back = readback.report as unknown as ReadBack;
    let points = 0;
    for (const [local, id] of [[store.run(run.id)!, ids[0]!], [child, ids[1]!]] as [Run, string][]) {
      const remote = back.runs[id]!;
      assert.equal(remote.name, local.name);
      assert.equal(remote.status, 'FINISHED');
      assert.equal(remote.start_time, local.startedAt ?? local.createdAt);
      assert.equal(remote.end_time, local.endedAt);
      assert.deepEqual(Object.fromEntries(Object.entries(remote.params)), store.params(local.id));
      for (const [key, value] of Object.entries(store.tags(local.id))) assert.equal(remote.tags[key], value);
      points += comparePoints(store, local, remote.metrics);
    }
    const parent = back.runs[ids[0]!]!;
    assert.equal(parent.tags['mlflow.source.git.commit'], 'a'.repeat(40));
    assert.equal(parent.tags['mlflow.source.git.branch'], 'main');
    assert.equal(parent.user, 'ada');
    assert.equal(back.runs[ids[1]!]!.tags['mlflow.parentRunId'], ids[0]);
    assert.equal(parent.artifacts['model.txt'], sha256(artifact));
    assert.equal(parent.artifacts['runboard/uncommitted.patch'], sha256('diff --git a/x b/x\n+1\n'));
    assert.deepEqual(back.aliases['churn@champion'], { version: '1', run_id: ids[0], sha256: version.sha256 });

    const teammate = await runPython(join(import.meta.dirname, 'syncTeammate.py'), served, { args: ['team-exp'], env: { USER: 'grace', LOGNAME: 'grace' } });
    assert.equal(teammate.code, 0, teammate.stderr);
    const pulled = await pullRuns(store, client);
    assert.equal(pulled.ours, 2);
    assert.deepEqual(pulled.runs.map((r) => [r.name, r.author]), [['grace-run', 'grace']]);
    const theirs = store.run(pulled.runs[0]!.id)!;
    assert.deepEqual(store.params(theirs.id), { depth: '7', lr: '0.3' });
    assert.equal(store.tags(theirs.id).team, 'vision');
    assert.equal(store.series(theirs.id, 'loss').length, 1000);
    assert.equal(store.series(theirs.id, 'acc').length, 1);
    assert.equal((await pullRuns(store, client)).unchanged, 1, 'a second pull reads nothing again');
    console.log(`sync-peer ${label}: a push cut after ${cut.sent.points} points (a lost answer) then resumed: ${pushed.sent.runs} runs, ${pushed.sent.params} params, ${pushed.sent.tags} tags, ${pushed.sent.points} points, ${pushed.sent.artifacts} artifacts, ${pushed.sent.models} model versions; read back ${Object.keys(back.runs).length} runs, ${points} points equal, ${Object.keys(parent.artifacts).length} artifacts by sha256, alias churn@champion → ${back.aliases['churn@champion']!.version}; pulled ${pulled.runs.length} teammate run (${pulled.points} points)`);
  } finally {
    await served.stop();
  }
}

/** Every point of every metric, equal (±Inf as MLflow keeps it); returns how many. */
function comparePoints(store: Store, local: Run, remote: ReadBack['runs'][string]['metrics']): number {
  let count = 0;
  const summaries = store.summaries(local.id);
  assert.deepEqual(Object.keys(remote).sort(), Object.keys(summaries).sort());
  for (const key of Object.keys(summaries)) {
    const expected = store.series(local.id, key).map((p) => [p.step, asMlflowKeeps(p.value), p.wall]);
    assert.deepEqual(remote[key], expected, `metric ${key}`);
    count += expected.length;
  }
  return count;
}

test('push and pull with the real mlflow server 2.12.2 on SQLite', () => roundTrip('SQLite', undefined));

test('push and pull with the real mlflow server 2.12.2 on PostgreSQL', async (t) => {
  const postgres = startPostgres();
  if (typeof postgres === 'string') {
    t.skip(postgres);
    return;
  }
  try {
    await roundTrip('PostgreSQL', postgres.uri);
  } finally {
    postgres.stop();
  }
});
