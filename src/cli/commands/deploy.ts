import { UserError } from '../../core/errors.ts';
import { Deployments, type RollbackResult } from '../../core/deploy/deployments.ts';
import type { Deployment } from '../../core/deploy/types.ts';
import type { Store } from '../../core/store/store.ts';
import { pickleWarning, vouchedVersion } from '../../core/registry/pickles.ts';
import { isoTime, num, openStore, parse, requirePositional, table, toJson, type CliCommand, type CliContext } from '../command.ts';

/** A token to reuse (so clients keep working across a redeploy) comes from the environment, never argv. */
const TOKEN_ENV = 'RUNBOARD_DEPLOY_TOKEN';

function resultJson(r: RollbackResult) {
  const d = r.deployment;
  return {
    id: d.id,
    url: d.url,
    port: d.port,
    token: r.token,
    status: d.status,
    target: d.target,
    model: d.model,
    version: d.version,
    message: d.message,
    error: d.error,
    forced: d.forced,
    replaces: d.replacesId,
    dir: d.dir,
    elapsedMs: r.elapsedMs,
  };
}

/** `r.token` is null when a rollback kept the token of the deployment it replaced. */
function report(ctx: CliContext, r: RollbackResult, json: boolean, tokenReused: boolean): number {
  const d = r.deployment;
  const ok = d.status !== 'failed';
  if (json) {
    ctx.out(toJson(resultJson(r)));
    return ok ? 0 : 1;
  }
  if (!ok) {
    ctx.err(`runboard: deploying ${d.model}@${d.version} to ${d.target} failed (deployment ${d.id}): ${d.error}`);
    return 1;
  }
  const where = d.url ? ` at ${d.url}` : '';
  ctx.out(`${d.model}@${d.version} → ${d.target}: ${d.status}${where} (deployment ${d.id}, ${(r.elapsedMs / 1000).toFixed(1)} s)`);
  if (d.message) ctx.out(d.message);
  if (d.forced) ctx.err(`runboard: deployed despite failing gates (recorded): ${d.forced.join('; ')}`);
  if (tokenReused) ctx.out(`Token: the one in ${TOKEN_ENV}`);
  else if (r.token === null) ctx.out(`Token: unchanged (the one of deployment ${d.replacesId})`);
  else ctx.out(`Token (shown once, keep it): ${r.token}`);
  if (d.url) ctx.out(`Try: curl -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"instances": [[...]]}' ${d.url}/predict`);
  return 0;
}

/**
 * The command line has no Restricted Mode (whoever types a command vouches for the workspace, as
 * with `python train.py`), so an unvouched pickle is a warning here, not a refusal.
 */
export function warnOfPickle(ctx: CliContext, warning: string | undefined): void {
  if (warning) ctx.err(`runboard: warning: ${warning}`);
}

export const deployCommand: CliCommand = {
  name: 'deploy',
  usage: 'runboard deploy NAME[@VERSION|@ALIAS] [--target local|docker|kubernetes|CUSTOM] [--port P] [--python PATH] [--image IMAGE] [--namespace NS] [--baseline-rows N] [--force] [--json]',
  summary: 'Serve a registered model (prints its bearer token once)',
  async run(ctx) {
    const { values, positionals } = parse(ctx, deployCommand, {
      target: { type: 'string' },
      port: { type: 'string' },
      python: { type: 'string' },
      image: { type: 'string' },
      namespace: { type: 'string' },
      force: { type: 'boolean', default: false },
      'baseline-rows': { type: 'string' },
    });
    requirePositional(positionals, 1, deployCommand);
    if (values.port !== undefined && !/^\d+$/.test(values.port)) throw new UserError(`--port takes a number, not "${values.port}"`);
    const baselineRows = values['baseline-rows'];
    if (baselineRows !== undefined && !/^[1-9]\d*$/.test(baselineRows)) throw new UserError(`--baseline-rows takes a number of rows (1 or more), not "${baselineRows}"`);
    const store = openStore(ctx, values.db);
    try {
      const token = ctx.env[TOKEN_ENV] || undefined;
      const deployments = new Deployments(store);
      const model = deployments.registry.resolveForDeploy(positionals[0]!);
      warnOfPickle(ctx, pickleWarning(model.storedPath, vouchedVersion(model)));
      const result = await deployments.deploy(model, {
        target: values.target,
        port: values.port === undefined ? undefined : Number(values.port),
        python: values.python,
        image: values.image,
        namespace: values.namespace,
        force: values.force,
        token,
        baselineRows: baselineRows === undefined ? undefined : Number(baselineRows),
      });
      return report(ctx, result, values.json, token !== undefined);
    } finally {
      store.close();
    }
  },
};

function deploymentJson(deployments: Deployments, d: Deployment) {
  const log = deployments.requestLog(d);
  return {
    id: d.id,
    model: d.model,
    version: d.version,
    target: d.target,
    status: d.status,
    url: d.url,
    port: d.port,
    pid: d.pid,
    dir: d.dir,
    message: d.message,
    error: d.error,
    forced: d.forced,
    replaces: d.replacesId,
    createdAt: isoTime(d.createdAt),
    stoppedAt: isoTime(d.stoppedAt),
    requests: log ? deployments.stats(d.id) : null,
  };
}

export const deploymentsCommand: CliCommand = {
  name: 'deployments',
  usage: 'runboard deployments [--all] [--json]',
  summary: 'Deployments with their status and traffic (stopped ones with --all)',
  async run(ctx) {
    const { values } = parse(ctx, deploymentsCommand, { all: { type: 'boolean', default: false } });
    let store: Store;
    let writable = true;
    try {
      store = openStore(ctx, values.db);
    } catch (err) {
      // A listing is a read: on a read-only database it still answers, without the liveness check (a write).
      if (!(err instanceof UserError)) throw err;
      store = openStore(ctx, values.db, true);
      writable = false;
      ctx.err(`runboard: warning: ${err.message.split('. ')[0]}; whether servers are still alive was not checked.`);
    }
    try {
      const deployments = new Deployments(store);
      if (writable) await deployments.reconcile();
      const list = deployments.list().filter((d) => values.all || values.json || !['stopped', 'failed'].includes(d.status));
      if (values.json) {
        ctx.out(toJson(list.map((d) => deploymentJson(deployments, d))));
      } else if (list.length === 0) {
        ctx.out('No deployments. Serve a model with: runboard deploy NAME');
      } else {
        ctx.out(
          table(
            ['ID', 'MODEL', 'TARGET', 'STATUS', 'URL', 'REQUESTS', 'ERRORS', 'P50 MS', 'P95 MS', 'CREATED'],
            list.map((d) => {
              const s = deployments.requestLog(d) ? deployments.stats(d.id) : undefined;
              return [
                String(d.id),
                `${d.model}@${d.version}`,
                d.target,
                d.status,
                d.url ?? '',
                s ? String(s.requests) : '',
                s ? `${num(s.errorRate * 100)}%` : '',
                num(s?.p50 ?? undefined),
                num(s?.p95 ?? undefined),
                isoTime(d.createdAt) ?? '',
              ];
            }),
          ),
        );
      }
      return 0;
    } finally {
      store.close();
    }
  },
};

export const undeployCommand: CliCommand = {
  name: 'undeploy',
  usage: 'runboard undeploy ID [--json]',
  summary: 'Stop a deployment',
  async run(ctx) {
    const { values, positionals } = parse(ctx, undeployCommand, {});
    requirePositional(positionals, 1, undeployCommand);
    const store = openStore(ctx, values.db);
    try {
      const deployments = new Deployments(store);
      const d = await deployments.stop(positionals[0]!);
      if (values.json) ctx.out(toJson(deploymentJson(deployments, d)));
      else ctx.out(`Deployment ${d.id} (${d.model}@${d.version}, ${d.target}): ${d.status}`);
      return 0;
    } finally {
      store.close();
    }
  },
};

export const rollbackCommand: CliCommand = {
  name: 'rollback',
  usage: 'runboard rollback ID [--force] [--json]',
  summary: 'Replace a deployment with the previous version of its model, on the same target, URL and token',
  async run(ctx) {
    const { values, positionals } = parse(ctx, rollbackCommand, { force: { type: 'boolean', default: false } });
    requirePositional(positionals, 1, rollbackCommand);
    const store = openStore(ctx, values.db);
    try {
      const token = ctx.env[TOKEN_ENV] || undefined;
      // Clients keep their token, as in the editor: a target that needs the token itself gets a new one (printed).
      const result = await new Deployments(store).rollback(positionals[0]!, { force: values.force, token, keepToken: true });
      return report(ctx, result, values.json, token !== undefined);
    } finally {
      store.close();
    }
  },
};
