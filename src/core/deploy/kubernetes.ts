import { basename, join } from 'node:path';
import { writeFileNoFollow } from '../io/safePaths.ts';
import { CONTAINER_PORT, CONTAINER_UID, defaultImage, slug, workspaceTag } from './docker.ts';
import { firstLine, runCommand } from './process.ts';
import type { DeployOutcome, DeployRequest, DeployTarget, Deployment } from './types.ts';
import { toYaml } from './yaml.ts';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * Kubernetes object names: DNS labels of at most 63 characters. Deployment ids are per workspace,
 * so the name also carries the workspace's tag: two workspaces never replace each other's objects.
 */
export const resourceName = (model: string, id: number, workspaceTag: string): string => {
  const suffix = `-${id}-${workspaceTag}`;
  return `runboard-${slug(model)}`.slice(0, 63 - suffix.length).replace(/-+$/, '') + suffix;
};

/** A Deployment and a Service for the model image; the token comes from a Secret, never the manifest. */
export function kubernetesManifests(req: DeployRequest, image: string, namespace?: string): { name: string; secret: string; objects: object[] } {
  const name = resourceName(req.model.name, req.id, workspaceTag(req.dir));
  const secret = `${name}-token`;
  const labels = {
    'app.kubernetes.io/name': 'runboard-model',
    'app.kubernetes.io/instance': name,
    'app.kubernetes.io/managed-by': 'runboard',
    'runboard/model': slug(req.model.name).slice(0, 63),
    'runboard/version': String(req.model.version),
  };
  const metadata = { name, ...(namespace ? { namespace } : {}), labels };
  const probe = { httpGet: { path: '/health', port: 'http' } };
  const deployment = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata,
    spec: {
      replicas: 1,
      selector: { matchLabels: { 'app.kubernetes.io/instance': name } },
      template: {
        metadata: { labels },
        spec: {
          securityContext: { runAsNonRoot: true, runAsUser: CONTAINER_UID },
          containers: [
            {
              name: 'server',
              image,
              command: ['python', '-m', 'runboard_server.server'],
              args: ['--model', `/app/model/${basename(req.modelPath)}`, '--name', req.model.name, '--version', String(req.model.version),
                '--host', '0.0.0.0', '--port', String(CONTAINER_PORT), '--log', '/logs/requests.jsonl'],
              ports: [{ name: 'http', containerPort: CONTAINER_PORT }],
              env: [{ name: 'RUNBOARD_SERVER_TOKEN', valueFrom: { secretKeyRef: { name: secret, key: 'token' } } }],
              readinessProbe: { ...probe, periodSeconds: 5 },
              livenessProbe: { ...probe, initialDelaySeconds: 10, periodSeconds: 10 },
              volumeMounts: [{ name: 'logs', mountPath: '/logs' }],
            },
          ],
          volumes: [{ name: 'logs', emptyDir: {} }],
        },
      },
    },
  };
  const service = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata,
    spec: { selector: { 'app.kubernetes.io/instance': name }, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
  };
  return { name, secret, objects: [deployment, service] };
}

const documents = (objects: object[]): string => objects.map((o) => toYaml(o)).join('---\n');

/** Applies the manifests when kubectl has a current context; otherwise leaves them to apply by hand. */
export function kubernetesTarget(settings: { kubectl?: string } = {}): DeployTarget {
  const kubectl = settings.kubectl ?? 'kubectl';
  const ns = (namespace: unknown): string[] => (typeof namespace === 'string' && namespace ? ['-n', namespace] : []);
  // Names read back from the database reach kubectl only if they are DNS labels (the database is a
  // workspace file: a value like `--kubeconfig=…` must never become an option).
  const label = (value: unknown): string | undefined => (typeof value === 'string' && DNS_LABEL.test(value) ? value : undefined);
  const recorded = (d: Deployment) => ({
    namespace: d.config.namespace === undefined ? undefined : label(d.config.namespace),
    valid: d.config.namespace === undefined || label(d.config.namespace) !== undefined,
  });
  return {
    name: 'kubernetes',
    async deploy(req: DeployRequest): Promise<DeployOutcome> {
      const image = req.options.image ?? defaultImage(req.model);
      const { name, secret, objects } = kubernetesManifests(req, image, req.options.namespace);
      const manifest = join(req.dir, 'kubernetes.yaml');
      writeFileNoFollow(manifest, `# ${req.model.name}@${req.model.version} (sha256 ${req.model.sha256}), written by Runboard.\n${documents(objects)}`);
      const config = { image, manifest, namespace: req.options.namespace, resource: name, secret };
      const context = await runCommand([kubectl, 'config', 'current-context'], { timeoutMs: 15_000 });
      if (context.code !== 0 || !context.stdout.trim()) {
        return {
          status: 'prepared',
          config,
          message:
            `No Kubernetes context is configured (kubectl config current-context: ${firstLine(context)}). Manifests are in ${manifest}. ` +
            `To deploy: push ${image} where the cluster can pull it, create the secret ${secret} with key "token" holding the token, then kubectl apply -f ${manifest}`,
        };
      }
      const current = context.stdout.trim();
      const secretDoc = toYaml({ apiVersion: 'v1', kind: 'Secret', metadata: { name: secret, ...(req.options.namespace ? { namespace: req.options.namespace } : {}) }, type: 'Opaque', stringData: { token: req.token } });
      // Through stdin, so the token is neither on disk nor in argv.
      const applySecret = await runCommand([kubectl, 'apply', ...ns(req.options.namespace), '-f', '-'], { input: secretDoc, timeoutMs: 120_000 });
      if (applySecret.code !== 0) return { status: 'failed', config: { ...config, context: current }, error: `kubectl apply (secret) failed: ${firstLine(applySecret)}` };
      const apply = await runCommand([kubectl, 'apply', ...ns(req.options.namespace), '-f', manifest], { timeoutMs: 120_000 });
      if (apply.code !== 0) return { status: 'failed', config: { ...config, context: current }, error: `kubectl apply failed: ${firstLine(apply)}` };
      return {
        status: 'deployed',
        config: { ...config, context: current },
        message: `Applied to context ${current}. Reach it with: ${['kubectl', 'port-forward', ...ns(req.options.namespace), `service/${name}`, '8080:80'].join(' ')}`,
      };
    },
    async stop(d: Deployment): Promise<void> {
      const { namespace, valid } = recorded(d);
      const manifest = d.dir && typeof d.config.manifest === 'string' && d.config.manifest === join(d.dir, basename(d.config.manifest)) ? d.config.manifest : undefined;
      if (d.status === 'prepared' || !manifest || !valid) return;
      await runCommand([kubectl, 'delete', ...ns(namespace), '--ignore-not-found', '-f', manifest], { timeoutMs: 120_000 });
      const secret = label(d.config.secret);
      if (secret) await runCommand([kubectl, 'delete', ...ns(namespace), '--ignore-not-found', 'secret', secret], { timeoutMs: 60_000 });
    },
    async alive(d: Deployment): Promise<boolean | undefined> {
      const { namespace, valid } = recorded(d);
      const resource = label(d.config.resource);
      if (!resource || !valid) return undefined;
      const r = await runCommand([kubectl, 'get', ...ns(namespace), 'deployment', resource, '-o', 'name'], { timeoutMs: 15_000 });
      if (r.code === 0) return true;
      return /notfound|not found/i.test(r.stderr) ? false : undefined;
    },
  };
}
