import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Deployments } from '../../src/core/deploy/deployments.ts';
import type { DeployTarget } from '../../src/core/deploy/types.ts';
import { DeploymentWatcher, type DeploymentChange } from '../../src/core/monitor/deploymentWatcher.ts';
import { tempStore } from './helpers.ts';

/**
 * A target whose server is a real process living `seconds`, with a request log the test writes;
 * alive while the process exists.
 */
function processTarget(seconds: number): DeployTarget {
  after(() => child?.kill());
  let child: ReturnType<typeof spawn> | undefined;
  return {
    name: 'proc',
    async deploy(req) {
      child = spawn('python3', ['-c', `import time; time.sleep(${seconds})`], { stdio: 'ignore' });
      await new Promise((resolve) => child!.once('spawn', resolve));
      return { status: 'running', pid: child.pid!, config: { requestLog: join(req.dir, 'requests.jsonl') } };
    },
    async stop() {},
    async alive(d) {
      try {
        process.kill(d.pid!, 0);
        return true;
      } catch {
        return false;
      }
    },
  };
}

async function deployed(seconds: number) {
  const { store, workspace } = tempStore();
  const file = join(workspace, 'model.pkl');
  writeFileSync(file, 'weights');
  const deployments = new Deployments(store, { workspace, settings: {}, targets: [processTarget(seconds)] });
  deployments.registry.register({ name: 'm', file });
  const { deployment } = await deployments.deploy('m', { target: 'proc' });
  assert.equal(deployment.status, 'running');
  const warnings: string[] = [];
  const changes: DeploymentChange[] = [];
  const watcher = new DeploymentWatcher(deployments, { intervalMs: 20, warn: (m) => warnings.push(m) });
  watcher.onDidChange((c) => changes.push(c));
  return { deployments, deployment, watcher, changes, warnings, log: deployment.config.requestLog as string };
}

const record = (status: number, latency: number) => JSON.stringify({ time: Date.now(), method: 'POST', path: '/predict', status, latency_ms: latency, batch: 2 }) + '\n';

async function until(what: string, condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('fires one change naming the deployment when its request log grows, and serves the stats from its cache', async (t) => {
  const { deployment, watcher, changes, warnings, log } = await deployed(30);
  t.after(() => watcher.dispose());
  assert.equal(watcher.running, false, 'no timer before anyone looks');
  watcher.setActive(true);
  assert.equal(watcher.running, true);

  appendFileSync(log, record(200, 10) + record(200, 30) + record(500, 20));
  await until('a change', () => changes.length > 0);
  assert.deepEqual(changes[0], { ids: [deployment.id] });
  assert.deepEqual(watcher.stats(deployment.id), { requests: 3, errors: 1, errorRate: 1 / 3, p50: 20, p95: 30, rows: 4, lastAt: watcher.stats(deployment.id)!.lastAt, skipped: 0 });

  const seen = changes.length;
  await watcher.tick();
  await watcher.tick();
  assert.equal(changes.length, seen, 'an unchanged log fires nothing');

  appendFileSync(log, record(200, 40));
  await until('a second change', () => changes.length > seen);
  assert.equal(watcher.stats(deployment.id)!.requests, 4);
  assert.equal(watcher.stats(12345), undefined, 'no such deployment');

  watcher.setActive(false);
  assert.equal(watcher.running, false, 'no timer while nobody looks');
  assert.deepEqual(warnings, []);
});

test('notices a server that is gone, records it, names it in a change, then stops its timer', async (t) => {
  const { deployments, deployment, watcher, changes, warnings } = await deployed(0.3);
  t.after(() => watcher.dispose());
  watcher.setActive(true);
  await until('the server to be found gone', () => deployments.get(deployment.id).status !== 'running');
  const gone = deployments.get(deployment.id);
  assert.equal(gone.status, 'stopped unexpectedly');
  assert.equal(gone.error, 'it was no longer running when checked');
  assert.deepEqual(changes.at(-1), { ids: [deployment.id] });
  assert.equal(watcher.running, false, 'nothing live is left to watch');
  watcher.recheck();
  assert.equal(watcher.running, false);
  assert.deepEqual(warnings, []);
});

test('dispose stops the timer and the events', async () => {
  const { watcher, changes, log } = await deployed(30);
  watcher.setActive(true);
  watcher.dispose();
  assert.equal(watcher.running, false);
  appendFileSync(log, record(200, 1));
  await watcher.tick();
  assert.deepEqual(changes, []);
});

test('while nobody looks it still looks at the idle cadence, only while something is live; the cadence follows setActive and setIdleInterval', async (t) => {
  const { deployments, deployment, changes, log } = await deployed(30);
  const watcher = new DeploymentWatcher(deployments, { intervalMs: 20, idleIntervalMs: 30, warn: (m) => assert.fail(m) });
  t.after(() => watcher.dispose());
  watcher.onDidChange((c) => changes.push(c));
  assert.equal(watcher.running, false, 'nothing looked yet');
  watcher.recheck();
  assert.equal(watcher.cadenceMs, 30, 'hidden, with something live: the idle cadence');
  appendFileSync(log, record(200, 10));
  await until('a change noticed while nobody looks', () => changes.length > 0);
  assert.deepEqual(changes[0], { ids: [deployment.id] });
  watcher.setActive(true);
  assert.equal(watcher.cadenceMs, 20);
  watcher.setActive(false);
  assert.equal(watcher.cadenceMs, 30);
  watcher.setIdleInterval(40);
  assert.equal(watcher.cadenceMs, 40);
  watcher.setIdleInterval(undefined);
  assert.equal(watcher.running, false, 'no idle looks configured');
  watcher.setIdleInterval(30);
  await deployments.stop(deployment.id);
  watcher.recheck();
  assert.equal(watcher.running, false, 'nothing live: no timer at all');
  watcher.dispose();
  assert.equal(watcher.cadenceMs, undefined);
});

test('a tick asked for while one is under way does not start another', async (t) => {
  const { store, workspace } = tempStore();
  const file = join(workspace, 'model.pkl');
  writeFileSync(file, 'weights');
  let checks = 0;
  let release: () => void = () => undefined;
  const held = new Promise<void>((resolve) => (release = resolve));
  const target: DeployTarget = {
    name: 'slow',
    deploy: async () => ({ status: 'deployed' }),
    stop: async () => undefined,
    alive: async () => {
      checks++;
      await held;
      return true;
    },
  };
  const deployments = new Deployments(store, { workspace, settings: {}, targets: [target] });
  deployments.registry.register({ name: 'm', file });
  await deployments.deploy('m', { target: 'slow' });
  const watcher = new DeploymentWatcher(deployments, { warn: (m) => assert.fail(m) });
  t.after(() => watcher.dispose());
  const first = watcher.tick();
  await until('the first tick to ask the target', () => checks === 1);
  await watcher.tick();
  assert.equal(checks, 1, 'the second tick returned without looking');
  release();
  await first;
  await watcher.tick();
  assert.equal(checks, 2, 'once the first ended, the next looks again');
});
