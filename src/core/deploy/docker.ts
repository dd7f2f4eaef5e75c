import { createHash } from 'node:crypto';
import { cpSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ensureRealDir, writeFileNoFollow } from '../io/safePaths.ts';
import { pythonDir } from '../paths.ts';
import { linkOrCopy, type ModelVersion } from '../registry/registry.ts';
import { firstLine, freePort, runCommand, waitHealthy } from './process.ts';
import type { DeployOutcome, DeployRequest, DeployTarget, Deployment } from './types.ts';

/** The port the server listens on inside a container. */
export const CONTAINER_PORT = 8080;
/** A fixed non-root user in the image. */
export const CONTAINER_UID = 10001;

/** Lowercase letters, digits and dashes, as image and Kubernetes names require. */
export const slug = (name: string): string => name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'model';

/**
 * 8 hex digits naming the workspace a deployment folder belongs to: deployment ids restart at 1 in
 * every workspace, and container or Kubernetes names must not collide across them.
 */
export const workspaceTag = (deploymentDir: string): string => createHash('sha256').update(dirname(dirname(deploymentDir))).digest('hex').slice(0, 8);

/**
 * A container name read back from the database, only if it is one Runboard could have made: the
 * database is a file in the workspace, and a value like `--config=…` must never reach docker.
 */
const containerName = (value: unknown): string | undefined => (typeof value === 'string' && /^runboard-\d+-[0-9a-f]{8}$/.test(value) ? value : undefined);

export const defaultImage = (model: ModelVersion): string => `runboard-${slug(model.name)}:${model.version}`;

interface PythonInfo {
  version?: unknown;
  packages?: unknown;
}

/** Python's major.minor and the packages the model's run had, from its environment snapshot. */
export function environmentRequirements(model: ModelVersion): { python: string; requirements: string[] } {
  const env = (model.snapshot.environment ?? {}) as { python?: PythonInfo | string; packages?: unknown };
  const py = typeof env.python === 'object' && env.python !== null ? env.python : {};
  const versionText = String(typeof env.python === 'string' ? env.python : (py.version ?? ''));
  const minor = /^(\d+)\.(\d+)/.exec(versionText);
  const packages = py.packages ?? env.packages;
  let requirements: string[] = [];
  if (Array.isArray(packages)) {
    requirements = packages.map((p) =>
      typeof p === 'string' ? p : typeof p === 'object' && p !== null && 'name' in p ? `${String(p.name)}==${String((p as { version?: unknown }).version ?? '')}` : '',
    );
  } else if (typeof packages === 'object' && packages !== null) {
    requirements = Object.entries(packages).map(([name, version]) => `${name}==${String(version)}`);
  }
  // The base image brings its own packaging tools.
  const tooling = new Set(['pip', 'setuptools', 'wheel']);
  requirements = requirements
    .map((r) => r.replace(/==$/, '').trim())
    .filter((r) => /^[A-Za-z0-9][A-Za-z0-9._-]*(==\S+)?$/.test(r) && !tooling.has(r.split('==')[0]!.toLowerCase()))
    .sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
  return { python: minor ? `${minor[1]}.${minor[2]}` : '3.11', requirements };
}

/** Writes a self-contained build context: Dockerfile, requirements, the server and the model. */
export function writeBuildContext(dir: string, model: ModelVersion, modelPath: string): { dockerfile: string; image: string } {
  const file = basename(modelPath);
  // A folder left by an earlier database may hold links; rm removes a link itself, never its target.
  for (const stale of ['model', 'runboard_server']) rmSync(join(dir, stale), { recursive: true, force: true });
  ensureRealDir(dir, join(dir, 'model'));
  ensureRealDir(dir, join(dir, 'logs'));
  linkOrCopy(modelPath, join(dir, 'model', file));
  cpSync(join(pythonDir(), 'runboard_server'), join(dir, 'runboard_server'), { recursive: true, filter: (src) => !src.includes('__pycache__') });
  const { python, requirements } = environmentRequirements(model);
  writeFileNoFollow(
    join(dir, 'requirements.txt'),
    [
      `# Packages of the run that produced ${model.name}@${model.version}.`,
      ...(requirements.length ? requirements : ['# None were recorded: add what the model needs to load (e.g. scikit-learn).']),
      '',
    ].join('\n'),
  );
  const cmd = ['python', '-m', 'runboard_server.server', '--model', `/app/model/${file}`, '--name', model.name, '--version', String(model.version),
    '--host', '0.0.0.0', '--port', String(CONTAINER_PORT), '--log', '/logs/requests.jsonl'];
  const dockerfile = join(dir, 'Dockerfile');
  writeFileNoFollow(
    dockerfile,
    [
      `# ${model.name}@${model.version} (sha256 ${model.sha256}), built by Runboard.`,
      '# Run with the token in the environment, never on the command line:',
      `#   RUNBOARD_SERVER_TOKEN=… docker run -p 127.0.0.1:8080:${CONTAINER_PORT} -e RUNBOARD_SERVER_TOKEN IMAGE`,
      `FROM python:${python}-slim`,
      'WORKDIR /app',
      'COPY requirements.txt ./',
      'RUN pip install --no-cache-dir -r requirements.txt',
      'COPY runboard_server/ ./runboard_server/',
      'COPY model/ ./model/',
      `RUN useradd --system --uid ${CONTAINER_UID} runboard && mkdir -p /logs && chown ${CONTAINER_UID} /logs`,
      `USER ${CONTAINER_UID}`,
      'ENV PYTHONUNBUFFERED=1',
      `EXPOSE ${CONTAINER_PORT}`,
      // Exec form: JSON, so no shell ever reads the model's name or path.
      `CMD ${JSON.stringify(cmd)}`,
      '',
    ].join('\n'),
  );
  return { dockerfile, image: defaultImage(model) };
}

/** Builds and runs the model in a container when a Docker engine answers; otherwise leaves the build context. */
export function dockerTarget(settings: { docker?: string; buildTimeoutMs?: number } = {}): DeployTarget {
  const docker = settings.docker ?? 'docker';
  return {
    name: 'docker',
    async deploy(req: DeployRequest): Promise<DeployOutcome> {
      const context = writeBuildContext(req.dir, req.model, req.modelPath);
      const image = req.options.image ?? context.image;
      const config = { image, requestLog: join(req.dir, 'logs', 'requests.jsonl') };
      const info = await runCommand([docker, 'info', '--format', '{{.ServerVersion}}'], { timeoutMs: 15_000 });
      if (info.code !== 0) {
        return {
          status: 'prepared',
          config,
          message:
            `No Docker engine answers (docker info: ${firstLine(info)}). The build context is in ${req.dir}. ` +
            `Build it with: docker build -t ${image} ${req.dir}; run it with RUNBOARD_SERVER_TOKEN set: ` +
            `docker run -p 127.0.0.1:8080:${CONTAINER_PORT} -e RUNBOARD_SERVER_TOKEN ${image}`,
        };
      }
      const build = await runCommand([docker, 'build', '-t', image, req.dir], { timeoutMs: settings.buildTimeoutMs ?? 30 * 60_000 });
      if (build.code !== 0) return { status: 'failed', config, error: `docker build failed: ${build.error ?? build.stderr.trim().split('\n').slice(-5).join('\n')}` };
      const port = req.port || (await freePort());
      const container = `runboard-${req.id}-${workspaceTag(req.dir)}`;
      const user = process.getuid && process.getgid ? ['--user', `${process.getuid()}:${process.getgid()}`] : [];
      const run = await runCommand(
        [docker, 'run', '-d', '--name', container, ...user, '-p', `127.0.0.1:${port}:${CONTAINER_PORT}`, '-e', 'RUNBOARD_SERVER_TOKEN', '-v', `${join(req.dir, 'logs')}:/logs`, image],
        // `-e NAME` without a value hands the variable over from this environment: the token stays off argv.
        { env: { ...process.env, RUNBOARD_SERVER_TOKEN: req.token }, timeoutMs: 120_000 },
      );
      if (run.code !== 0) return { status: 'failed', config, error: `docker run failed: ${firstLine(run)}` };
      const url = `http://127.0.0.1:${port}`;
      const health = await waitHealthy(url, req.options.healthTimeoutMs ?? 60_000);
      const withContainer = { ...config, container };
      if (!health.ok) {
        const logs = await runCommand([docker, 'logs', '--tail', '20', container], { timeoutMs: 15_000 });
        await runCommand([docker, 'rm', '-f', container], { timeoutMs: 60_000 });
        return { status: 'failed', config: withContainer, error: `${health.error}\n${logs.stdout}${logs.stderr}`.trim() };
      }
      return { status: 'running', url, port, config: withContainer };
    },
    async stop(d: Deployment): Promise<void> {
      const container = containerName(d.config.container);
      if (container) await runCommand([docker, 'rm', '-f', container], { timeoutMs: 60_000 });
    },
    async alive(d: Deployment): Promise<boolean | undefined> {
      const container = containerName(d.config.container);
      if (!container) return undefined;
      const r = await runCommand([docker, 'inspect', '-f', '{{.State.Running}}', container], { timeoutMs: 15_000 });
      if (r.code === 0) return r.stdout.trim() === 'true';
      return /no such (object|container)/i.test(r.stderr) ? false : undefined;
    },
  };
}
