import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { customTarget, substitute } from '../../src/core/deploy/custom.ts';
import { Deployments } from '../../src/core/deploy/deployments.ts';
import { dockerTarget } from '../../src/core/deploy/docker.ts';
import { kubernetesTarget } from '../../src/core/deploy/kubernetes.ts';
import { processAlive } from '../../src/core/deploy/process.ts';
import type { Deployment } from '../../src/core/deploy/types.ts';
import { percentile, requestStats } from '../../src/core/monitor/requestLog.ts';
import { toYaml } from '../../src/core/deploy/yaml.ts';
import { Registry, sha256File } from '../../src/core/registry/registry.ts';
import { Store } from '../../src/core/store/store.ts';
import { tempDir, tempStore } from './helpers.ts';
import { recordRun, SYSTEM_PYTHON } from './registryFixtures.ts';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

/** Parses YAML with PyYAML (Debian's python3-yaml) and hands back JSON. */
function parseYaml(text: string): unknown[] {
  const out = execFileSync(SYSTEM_PYTHON, ['-c', 'import json, sys, yaml; print(json.dumps(list(yaml.safe_load_all(sys.stdin))))'], { input: text, encoding: 'utf8' });
  return JSON.parse(out) as unknown[];
}

const answers = (argv: string[]): boolean => spawnSync(argv[0]!, argv.slice(1), { stdio: 'ignore', timeout: 15_000 }).status === 0;

function workspaceWithModel() {
  const { store, workspace } = tempStore();
  const model = join(workspace, 'model.bin');
  writeFileSync(model, 'model bytes');
  const environment = { python: { version: '3.10.14', executable: '/nonexistent/python', packages: { 'scikit-learn': '1.2.1', numpy: '1.24.2', pip: '23.0', setuptools: '68.0' } } };
  const run = recordRun(store, workspace, { model, environment });
  const model1 = new Registry(store).register({ name: 'Churn_Model.v2', run: run.id, artifact: 'model.pkl' });
  return { store, workspace, model: model1, deployments: new Deployments(store, { settings: {} }) };
}

test('docker target ends "prepared" with a sane build context (no Docker engine on this machine)', async (t) => {
  if (answers(['docker', 'info'])) return t.skip('a Docker engine answers here: this test is for a machine without one');
  const { deployments, model } = workspaceWithModel();
  const { deployment: d, token } = await deployments.deploy('Churn_Model.v2', { target: 'docker' });
  assert.equal(d.status, 'prepared');
  assert.match(d.message!, /No Docker engine answers \(docker info: .+\)\. The build context is in .*Build it with: docker build -t runboard-churn-model-v2:1 /);
  const dir = d.dir!;
  assert.deepEqual(readdirSync(dir).sort(), ['Dockerfile', 'logs', 'model', 'requirements.txt', 'runboard_server']);
  assert.equal(sha256File(join(dir, 'model', 'model.pkl')), model.sha256);
  assert.ok(existsSync(join(dir, 'runboard_server', 'server.py')));
  assert.deepEqual(readFileSync(join(dir, 'requirements.txt'), 'utf8').split('\n').filter((l) => l && !l.startsWith('#')), ['numpy==1.24.2', 'scikit-learn==1.2.1']);

  const lines = readFileSync(join(dir, 'Dockerfile'), 'utf8').split('\n').filter((l) => l.trim() && !l.startsWith('#'));
  const instructions = lines.map((l) => l.split(' ')[0]);
  assert.equal(instructions[0], 'FROM');
  assert.equal(lines[0], 'FROM python:3.10-slim', "the run's Python");
  for (const i of instructions) assert.ok(['FROM', 'WORKDIR', 'COPY', 'RUN', 'USER', 'ENV', 'EXPOSE', 'CMD'].includes(i!), i);
  for (const copy of lines.filter((l) => l.startsWith('COPY '))) {
    const source = copy.split(' ')[1]!;
    assert.ok(existsSync(join(dir, source)), `${source} is in the build context`);
  }
  const cmd = JSON.parse(lines.find((l) => l.startsWith('CMD '))!.slice(4)) as string[];
  assert.deepEqual(cmd.slice(0, 3), ['python', '-m', 'runboard_server.server']);
  assert.equal(cmd[cmd.indexOf('--model') + 1], '/app/model/model.pkl');
  assert.equal(cmd[cmd.indexOf('--host') + 1], '0.0.0.0', 'inside the container; published on 127.0.0.1 only');
  assert.ok(lines.includes('USER 10001'));
  for (const file of ['Dockerfile', 'requirements.txt']) assert.ok(!readFileSync(join(dir, file), 'utf8').includes(token), `no token in ${file}`);
  assert.equal((await deployments.stop(d.id)).status, 'stopped');
});

test('kubernetes target ends "prepared" with manifests that parse (no Kubernetes cluster)', async (t) => {
  if (answers(['kubectl', 'config', 'current-context'])) return t.skip('kubectl has a context here: this test is for a machine without a cluster');
  const { deployments } = workspaceWithModel();
  const { deployment: d, token } = await deployments.deploy('Churn_Model.v2@1', { target: 'kubernetes', image: 'registry.example/churn:1', namespace: 'ml' });
  assert.equal(d.status, 'prepared');
  assert.match(d.message!, /No Kubernetes context is configured .*Manifests are in .*kubernetes\.yaml/);
  const text = readFileSync(join(d.dir!, 'kubernetes.yaml'), 'utf8');
  assert.ok(!text.includes(token), 'the token is not in the manifest');
  const docs = parseYaml(text) as { kind: string; metadata: { name: string; namespace: string }; spec: Record<string, any> }[]; // eslint-disable-line @typescript-eslint/no-explicit-any
  assert.deepEqual(docs.map((x) => x.kind), ['Deployment', 'Service']);
  const [deployment, service] = docs as [(typeof docs)[0], (typeof docs)[0]];
  assert.match(deployment.metadata.name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, 'a DNS label');
  assert.equal(deployment.metadata.namespace, 'ml');
  const container = deployment.spec.template.spec.containers[0];
  assert.equal(container.image, 'registry.example/churn:1');
  assert.deepEqual(container.env[0].valueFrom.secretKeyRef, { name: `${deployment.metadata.name}-token`, key: 'token' });
  assert.equal(container.readinessProbe.httpGet.path, '/health');
  assert.equal(container.args[container.args.indexOf('--name') + 1], 'Churn_Model.v2');
  assert.equal(container.args[container.args.indexOf('--version') + 1], '1', 'a string, as args must be');
  assert.deepEqual(deployment.spec.selector.matchLabels, service.spec.selector);
  assert.equal(service.spec.ports[0].targetPort, 'http');
});

test('the same model and deployment id in two workspaces get different Kubernetes names (no cluster needed)', async (t) => {
  if (answers(['kubectl', 'config', 'current-context'])) return t.skip('kubectl has a context here: this test is for a machine without a cluster');
  const names: string[] = [];
  for (let i = 0; i < 2; i++) {
    const { deployments } = workspaceWithModel();
    const { deployment: d } = await deployments.deploy('Churn_Model.v2@1', { target: 'kubernetes', image: 'registry.example/churn:1' });
    assert.equal(d.id, 1);
    const [deployment] = parseYaml(readFileSync(join(d.dir!, 'kubernetes.yaml'), 'utf8')) as { metadata: { name: string } }[];
    assert.match(deployment!.metadata.name, /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
    assert.ok(deployment!.metadata.name.length <= 63);
    names.push(deployment!.metadata.name);
  }
  assert.notEqual(names[0], names[1]);
});

test('YAML writer: strings that look like YAML syntax come back verbatim', () => {
  const tricky = ['yes', 'no', 'null', '~', '1.0', '0x10', '- item', 'a: b', '# not a comment', '"quoted"', "it's", 'multi\nline', '', ' padded ', '{x}', '[1]', '&anchor', '*ref', '!tag', '%', '@', '`', 'ünï©ødé'];
  const value = { list: tricky, nested: [{ a: tricky, b: { 'odd key: #': 'v', n: 3, f: 1.5, t: true, z: null } }, [1, [2, 3]], {}], empty: [] };
  assert.deepEqual(parseYaml(toYaml(value))[0], value);
});

test('custom command target: a placeholder value with shell metacharacters is passed verbatim as one argv element', async () => {
  // The workspace path itself carries the metacharacters, so ${model.path} does too.
  const root = tempDir();
  const workspace = join(root, `ws; touch PWNED $(touch PWNED2) \`touch PWNED3\` | & > out 'q' "dq"`);
  mkdirSync(workspace);
  const store = Store.open(join(workspace, '.runboard', 'runboard.db'));
  cleanups.push(async () => store.close());
  writeFileSync(join(workspace, 'model.bin'), 'm');
  const v = new Registry(store).register({ name: 'm', file: join(workspace, 'model.bin') });
  const record = `require('node:fs').writeFileSync('argv.json', JSON.stringify({ argv: process.argv.slice(1), env: process.env }))`;
  const deployments = new Deployments(store, {
    settings: { targets: { capture: { command: [process.execPath, '-e', record, '${model.path}', '--name=${model.name}', '${model.name}', '${model.version}', '${port}', '$HOME'] } } },
  });
  const { deployment: d, token } = await deployments.deploy('m', { target: 'capture', port: 8123 });
  assert.equal(d.status, 'deployed', d.error ?? '');
  const seen = JSON.parse(readFileSync(join(d.dir!, 'argv.json'), 'utf8')) as { argv: string[]; env: Record<string, string> };
  assert.deepEqual(seen.argv, [v.storedPath, '--name=${model.name}', 'm', '1', '8123', '$HOME']);
  assert.equal(seen.env.RUNBOARD_MODEL_PATH, v.storedPath);
  assert.equal(seen.env.RUNBOARD_MODEL_NAME, 'm');
  assert.equal(seen.env.RUNBOARD_MODEL_VERSION, '1');
  assert.equal(seen.env.RUNBOARD_PORT, '8123');
  assert.equal(seen.env.RUNBOARD_SERVER_TOKEN, token);
  for (const file of ['PWNED', 'PWNED2', 'PWNED3']) {
    assert.ok(!existsSync(join(root, file)) && !existsSync(join(d.dir!, file)) && !existsSync(join(workspace, file)), `no shell ran: ${file}`);
  }
  assert.deepEqual(substitute(['${port}x', 'x${port}', '${port}'], { '${port}': '1; rm -rf /' }), ['${port}x', 'x${port}', '1; rm -rf /']);
});

test('custom command target in the background: health-checked, kept running, stopped; a failing command fails the deployment', async (t) => {
  // Hooked before the store's own close hook, so its servers are stopped while the store is open.
  const started: Deployments[] = [];
  t.after(async () => {
    for (const deployments of started) for (const d of deployments.list()) await deployments.stop(d.id).catch(() => undefined);
  });
  const { store, workspace } = tempStore();
  writeFileSync(join(workspace, 'model.bin'), 'm');
  new Registry(store).register({ name: 'm', file: join(workspace, 'model.bin') });
  const serve = `require('node:http').createServer((q, s) => s.end(JSON.stringify({ status: 'ok' }))).listen(Number(process.argv[1]), '127.0.0.1')`;
  const deployments = new Deployments(store, {
    settings: {
      targets: {
        svc: { command: [process.execPath, '-e', serve, '${port}'], background: true, url: 'http://127.0.0.1:${port}' },
        broken: { command: [process.execPath, '-e', 'process.stderr.write("no credentials"); process.exit(3)'] },
      },
    },
  });
  started.push(deployments);
  const { deployment: d } = await deployments.deploy('m', { target: 'svc' });
  assert.equal(d.status, 'running', d.error ?? '');
  assert.match(d.url!, /^http:\/\/127\.0\.0\.1:\d+$/);
  assert.equal((await fetch(`${d.url}/health`)).status, 200);
  // As after a reboot: the recorded pid now belongs to a program started after the recorded one.
  const target = customTarget('svc', { command: ['unused'], background: true });
  const reused = { ...d, config: { ...d.config, startedAt: Date.now() - 3_600_000 } };
  assert.equal(await target.alive!(reused), false, 'a reused pid is not taken for the deployment');
  await target.stop(reused);
  assert.equal(processAlive(d.pid!), true, 'and stopping it leaves that process alone');
  assert.equal(await target.alive!(d), true);
  await deployments.stop(d.id);
  assert.equal(processAlive(d.pid!), false);

  const broken = await deployments.deploy('m', { target: 'broken' });
  assert.equal(broken.deployment.status, 'failed');
  assert.match(broken.deployment.error!, /exit code 3: no credentials/);
  await assert.rejects(deployments.deploy('m', { target: 'nope' }), /Unknown deploy target "nope" \(targets: svc, broken, local, docker, kubernetes\)/);
  await assert.rejects(deployments.deploy('../m'), /Invalid model name/);
  await assert.rejects(deployments.deploy('m', { port: 70000 }), /Invalid port/);
  assert.throws(() => new Deployments(store, { settings: { targets: { bad: { command: 'python3 serve.py' } } } }), /argv, no shell/);
});

test('request-log stats: requests, error rate, p50/p95 over predictions only, partial lines skipped', () => {
  const dir = tempDir();
  const log = join(dir, 'requests.jsonl');
  const lines = [
    ...Array.from({ length: 20 }, (_, i) => ({ time: 1000 + i, method: 'POST', path: '/predict', status: i < 2 ? 400 : 200, latency_ms: i + 1, batch: 2 })),
    { time: 5000, method: 'GET', path: '/health', status: 200, latency_ms: 999, batch: 0 },
  ];
  writeFileSync(log, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n{"time": 6000, "sta`);
  const s = requestStats(log);
  assert.deepEqual(
    { requests: s.requests, errors: s.errors, errorRate: s.errorRate, p50: s.p50, p95: s.p95, rows: s.rows, lastAt: s.lastAt, skipped: s.skipped },
    { requests: 20, errors: 2, errorRate: 0.1, p50: 10, p95: 19, rows: 36, lastAt: 1019, skipped: 1 },
  );
  assert.equal(requestStats(log, { sinceMs: 1010 }).requests, 10);
  assert.equal(requestStats(join(dir, 'none.jsonl')).p50, null);
  assert.equal(percentile([5], 95), 5);
});

test('names read back from the database reach docker and kubectl only if Runboard could have made them (stand-in CLIs: no Docker engine or cluster here)', async () => {
  // Stand-ins for the docker and kubectl clients that record their argv.
  const dir = tempDir();
  const calls = join(dir, 'calls.txt');
  for (const name of ['docker', 'kubectl']) {
    writeFileSync(join(dir, name), `#!/bin/sh\necho "${name} $*" >> '${calls}'\nexit 1\n`, { mode: 0o755 });
  }
  const docker = dockerTarget({ docker: join(dir, 'docker') });
  const kubectl = kubernetesTarget({ kubectl: join(dir, 'kubectl') });
  const deployment = (config: Record<string, unknown>) => ({ id: 1, status: 'running', dir: join(dir, 'deploy', '1'), config }) as unknown as Deployment;
  await docker.alive!(deployment({ container: '--config=/tmp/evil' }));
  await docker.stop!(deployment({ container: '-H=tcp://elsewhere' }));
  await kubectl.alive!(deployment({ resource: '--kubeconfig=/tmp/evil' }));
  await kubectl.alive!(deployment({ resource: 'runboard-m-1-abcdef12', namespace: '--kubeconfig=/tmp/evil' }));
  await kubectl.stop!(deployment({ manifest: '/etc/passwd', secret: 'runboard-m-1-abcdef12-token' }));
  assert.equal(existsSync(calls), false, 'nothing was run');
  await docker.alive!(deployment({ container: 'runboard-1-abcdef12' }));
  await kubectl.alive!(deployment({ resource: 'runboard-m-1-abcdef12', namespace: 'ml' }));
  assert.deepEqual(readFileSync(calls, 'utf8').trim().split('\n'), [
    'docker inspect -f {{.State.Running}} runboard-1-abcdef12',
    'kubectl get -n ml deployment runboard-m-1-abcdef12 -o name',
  ]);
});

test('targets follow changed settings: a broken deploy.json is refused and keeps the targets, a fixed one is taken at once', () => {
  const { store, workspace } = tempStore();
  const deployments = new Deployments(store, { workspace, settings: {} });
  assert.deepEqual(deployments.targetNames().sort(), ['docker', 'kubernetes', 'local']);
  assert.throws(() => deployments.configure({ targets: { local: { command: ['serve'] } } }), /built in/);
  assert.deepEqual(deployments.targetNames().sort(), ['docker', 'kubernetes', 'local'], 'a refused change keeps the previous targets');
  deployments.configure({ targets: { edge: { command: [process.execPath, '-e', ''] } } });
  assert.deepEqual(deployments.targetNames().sort(), ['docker', 'edge', 'kubernetes', 'local']);
});
