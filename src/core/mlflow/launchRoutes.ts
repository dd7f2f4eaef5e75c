import type { Store } from '../store/store.ts';
import { runOf } from './ids.ts';
import type { MlflowLaunches } from './launchEnv.ts';
import { MLFLOW_ROUTES } from './routeTable.ts';
import { API, runIdField, type MlflowReply, type MlflowRequest, type MlflowRoute } from './routes.ts';
import { startMlflowServer, type MlflowServer } from './server.ts';

type Handle = MlflowRoute['handle'];
type Rule = (handle: Handle, launches: MlflowLaunches) => Handle;

/** A refused request inside a transaction: rolls back what was done for it, then is answered. */
class Refused extends Error {
  readonly reply: MlflowReply;
  constructor(reply: MlflowReply) {
    super('refused');
    this.reply = reply;
  }
}

/** The run a request names, if any: a request naming none is left to its handler to refuse. */
function runOfRequest(store: Store, request: MlflowRequest): number | undefined {
  try {
    return runOf(store, runIdField(request)).id;
  } catch {
    return undefined;
  }
}

/**
 * Metrics of a launched run: its live capture gives the keys up (no console points for them,
 * those it stored removed) in the same transaction as MLflow's points, so a refused batch
 * removes nothing.
 */
const metricsRule =
  (keysOf: (fields: Record<string, unknown>) => string[]): Rule =>
  (handle, launches) =>
  (request, context) => {
    const runId = runOfRequest(context.store, request);
    const keys = keysOf(request.fields);
    if (runId === undefined || keys.length === 0) return handle(request, context);
    try {
      return launches.mlflowWrites(runId, keys, () => {
        const reply = handle(request, context);
        if (reply instanceof Promise) throw new Error('an MLflow metrics route must answer synchronously');
        if ((reply.status ?? 200) >= 400) throw new Refused(reply);
        return reply;
      });
    } catch (err) {
      if (err instanceof Refused) return err.reply;
      throw err;
    }
  };

const keyStrings = (items: unknown): string[] =>
  Array.isArray(items) ? items.flatMap((item) => (typeof (item as { key?: unknown } | null)?.key === 'string' ? [(item as { key: string }).key] : [])) : [];

const RULES: Record<string, Rule> = {
  [`POST ${API}/runs/log-metric`]: metricsRule((fields) => (typeof fields.key === 'string' ? [fields.key] : [])),
  [`POST ${API}/runs/log-batch`]: metricsRule((fields) => keyStrings(fields.metrics)),
};

/**
 * The routes a server of launches serves: the same, with the metrics rule for launched runs. (The
 * end of a launched run is the tracking routes' own rule: its process's exit decides.)
 */
export function launchRoutes(routes: readonly MlflowRoute[], launches: MlflowLaunches): MlflowRoute[] {
  return routes.map((route) => {
    const rule = RULES[`${route.method} ${route.path}`];
    return rule ? { ...route, handle: rule(route.handle, launches) } : route;
  });
}

/** A server for launches: 127.0.0.1, a free port, a fresh token, the launch rules. */
export function startLaunchServer(store: Store, launches: MlflowLaunches): Promise<MlflowServer> {
  return startMlflowServer({ store, port: 0, routes: launchRoutes(MLFLOW_ROUTES, launches) });
}
