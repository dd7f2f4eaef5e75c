import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { cli, json } from './cliHarness.ts';
import { tempStore } from './helpers.ts';
import { buildPushable, closedPort, faultProxy, remoteCopy, remoteWorkspace } from './syncHarness.ts';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli.ts');

/** The CLI runs in a child process: it runs asynchronously so this process's server can answer it. */
function cliAsync(args: string[], cwd: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd, env: { ...process.env, RUNBOARD_DB: '', RUNBOARD_SYNC_BACKOFF_MS: '10', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('runboard remote add/list/remove: remotes.json holds names and URLs only; mistakes are one line', () => {
  const { workspace } = tempStore();
  const add = cli(['remote', 'add', 'team', 'http://mlflow.internal:5000/'], { cwd: workspace });
  assert.equal(add.code, 0, add.stderr);
  assert.deepEqual(JSON.parse(readFileSync(join(workspace, '.runboard', 'remotes.json'), 'utf8')), { remotes: { team: { url: 'http://mlflow.internal:5000' } } });
  assert.deepEqual(json(cli(['remote', 'list', '--json'], { cwd: workspace })), [{ name: 'team', url: 'http://mlflow.internal:5000' }]);
  const secret = cli(['remote', 'add', 'other', 'https://ada:hunter2@mlflow.example'], { cwd: workspace });
  assert.equal(secret.code, 2);
  assert.equal(secret.stderr, 'runboard remote: https://mlflow.example: remotes are kept in .runboard/remotes.json, never with a password; set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD instead\n');
  assert.equal(cli(['remote', 'add', 'team', 'http://x'], { cwd: workspace }).stderr, 'runboard remote: a remote named "team" exists already; remove it first (runboard remote remove team)\n');
  assert.equal(cli(['remote', 'add', 'x', 'ftp://x'], { cwd: workspace }).stderr, 'runboard remote: ftp://x: only http:// and https:// tracking servers can be synced with\n');
  assert.equal(cli(['push', '--remote', 'nope', '--all'], { cwd: workspace }).stderr, 'runboard push: no remote named "nope"; add it with runboard remote add nope URL, or pass a URL\n');
  assert.equal(cli(['remote', 'remove', 'team'], { cwd: workspace }).code, 0);
  assert.deepEqual(json(cli(['remote', 'list', '--json'], { cwd: workspace })), []);
  assert.equal(cli(['remote', 'remove', 'team'], { cwd: workspace }).stderr, 'runboard remote: no remote named "team"\n');
});

test('runboard push/pull: --json summary last on stdout, progress on stderr; 401 is one line and exit 1; the next push resumes', async () => {
  const { store, workspace, dbPath } = tempStore();
  buildPushable(store, { points: 3000 });
  store.close();
  const remote = await remoteWorkspace();
  const proxy = await faultProxy(remote.server.url);
  assert.equal(cli(['remote', 'add', 'team', proxy.url], { cwd: workspace }).code, 0);

  const refused = await cliAsync(['push', '--all', '--remote', 'team'], workspace, { MLFLOW_TRACKING_TOKEN: 'wrong' });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /^runboard push: the MLflow server at http:\/\/127\.0\.0\.1:\d+ refused the credentials \(401 Unauthorized\): set MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD; what was sent is recorded and the next push resumes there$/m);
  assert.doesNotMatch(refused.stderr, /at .*\.ts:\d+/, 'no stack trace');

  const port = await closedPort();
  const unreachable = await cliAsync(['push', '--all', '--remote', `http://127.0.0.1:${port}`], workspace, { MLFLOW_TRACKING_TOKEN: remote.server.token });
  assert.equal(unreachable.code, 1);
  assert.deepEqual(unreachable.stderr.trim().split('\n').filter((line) => !line.includes('points sent')), [
    `runboard push: cannot reach the MLflow server at http://127.0.0.1:${port} (ECONNREFUSED); what was sent is recorded and the next push resumes there`,
  ]);

  const pushed = await cliAsync(['push', '--all', '--json'], workspace, { MLFLOW_TRACKING_TOKEN: remote.server.token });
  assert.equal(pushed.code, 0, pushed.stderr);
  const summary = JSON.parse(pushed.stdout) as { sent: { runs: number; points: number; artifacts: number } };
  assert.deepEqual([summary.sent.runs, summary.sent.points, summary.sent.artifacts], [2, 3301, 2]);
  assert.match(pushed.stderr, /^runboard push: run 1\/2 \(baseline\), 0 points sent$/m);
  assert.equal(proxy.storedPoints, 3301);

  const again = await cliAsync(['push', '--all'], workspace, { MLFLOW_TRACKING_TOKEN: remote.server.token });
  assert.equal(again.stdout, `Everything was pushed already to team (${proxy.url})\n`);

  const theirs = remote.store.createRun({ experiment: 'team-exp', name: 'theirs', user: 'grace', status: 'running' });
  const put = await fetch(`${remote.server.url}/api/2.0/mlflow-artifacts/artifacts/${theirs.experimentId}/${theirs.mlflowId}/artifacts/model.pkl`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${remote.server.token}` },
    body: 'pickled',
  });
  assert.equal(put.status, 200);
  remote.store.markEnded(theirs.id, { status: 'finished' });
  const pulled = await cliAsync(['pull', '--json'], workspace, { MLFLOW_TRACKING_TOKEN: remote.server.token });
  assert.equal(pulled.code, 0, pulled.stderr);
  const pull = JSON.parse(pulled.stdout) as { ours: number; runs: { name: string; author: string }[] };
  assert.deepEqual([pull.ours, pull.runs.map((r) => [r.name, r.author])], [2, [['theirs', 'grace']]]);
  const fetched = await cliAsync(['pull', '--fetch', 'theirs'], workspace, { MLFLOW_TRACKING_TOKEN: remote.server.token });
  assert.equal(fetched.code, 0, fetched.stderr);
  assert.equal(readFileSync(fetched.stdout.trim(), 'utf8'), 'pickled');
  assert.equal((await cliAsync(['pull', '--fetch', 'baseline'], workspace, {})).stderr, 'runboard pull: run 1 (baseline) was recorded here, not pulled: its artifacts are in ' + JSON.parse(cli(['show', 'baseline', '--json'], { cwd: workspace }).stdout).runDir + '\n');
  const local = Store.open(dbPath, { readonly: true });
  try {
    assert.equal(local.runs().length, 3);
  } finally {
    local.close();
  }
});

test('runboard push --watch: an unreachable server is one line, runs that end are pushed when it answers again, SIGTERM stops it', async () => {
  const { store, workspace } = tempStore();
  const { run } = buildPushable(store, { points: 50 });
  const remote = await remoteWorkspace();
  const proxy = await faultProxy(remote.server.url);
  proxy.failWhen = () => true;
  const child = spawn(process.execPath, [CLI, 'push', '--watch', '--interval', '0.1', '--remote', proxy.url], {
    cwd: workspace,
    env: { ...process.env, RUNBOARD_DB: '', RUNBOARD_SYNC_BACKOFF_MS: '5', MLFLOW_TRACKING_TOKEN: remote.server.token },
  });
  after(() => child.kill('SIGKILL'));
  let stderr = '';
  const saw = (pattern: RegExp) =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`waited for ${pattern} in:\n${stderr}`)), 30_000);
      const check = () => {
        if (!pattern.test(stderr)) return;
        clearTimeout(timer);
        child.stderr.off('data', check);
        resolve();
      };
      child.stderr.on('data', check);
      check();
    });
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  await saw(/failed \(500 Internal Server Error\) on experiments\/get-by-name 5 times: Internal Server Error; nothing is lost, trying again in/);
  proxy.failWhen = () => false;
  await saw(/runboard push: Pushed 1 run \(/);
  assert.equal(remoteCopy(remote.store, store.runs().find((r) => r.name === 'fold-1')!).status, 'finished');
  assert.throws(() => remoteCopy(remote.store, run), /not on the remote/, 'a running run waits until it ends');
  store.markEnded(run.id, { status: 'finished' });
  // The child gets its parent's remote id as a tag once the parent is there.
  await saw(/runboard push: Pushed 2 runs \(\d+ params, \d+ tags, 55 metric points/);
  assert.equal(remoteCopy(remote.store, run).status, 'finished');
  const exit = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.kill('SIGTERM');
  assert.equal(await exit, 0);
  assert.equal(stderr.match(/nothing is lost/g)?.length, 1, `one line for the failure, not one per attempt:\n${stderr}`);
});
