import { join } from 'node:path';
import { Deployments, type RollbackResult } from '../deploy/deployments.ts';
import { UserError } from '../errors.ts';
import { ensureRealDir, writeFileNoFollow } from '../io/safePaths.ts';
import { rerun } from '../launch/rerun.ts';
import type { RunHandle, RunOutput } from '../launch/runner.ts';
import { GateError, type ModelVersion } from '../registry/registry.ts';
import type { Store } from '../store/store.ts';
import { dataDirOf } from '../workspace.ts';
import { servedRowsCsv } from './export.ts';

/** The variable naming the CSV of served rows a retrain run gets. */
export const PRODUCTION_DATA_ENV = 'RUNBOARD_PRODUCTION_DATA';
/** Lineage relation from a deployment to the run that retrains its model. */
export const RETRAIN_RELATION = 'retrain';

export interface RetrainStart {
  handle: RunHandle;
  /** The CSV of served rows handed to the run (and recorded as its input). */
  data: string;
  rows: number;
  /** The model version the deployment serves, whose run is re-run. */
  source: ModelVersion;
}

/**
 * Re-runs the run that produced a deployment's model (same command or profile, params and inputs)
 * with the rows the deployment served, exported as CSV into its folder and named by
 * RUNBOARD_PRODUCTION_DATA; the CSV is one more input, fingerprinted like the others, and a
 * `retrain` edge links the deployment to the new run.
 */
export async function startRetrain(store: Store, deploymentId: number, options: { dbPath: string; workspace: string; name?: string }, output: RunOutput = {}): Promise<RetrainStart> {
  const deployments = new Deployments(store, { workspace: options.workspace });
  const d = deployments.get(deploymentId);
  const source = deployments.registry.byId(d.modelVersionId)!;
  if (source.runId === null || !store.run(source.runId)) {
    throw new UserError(`${d.model}@${d.version} has no run to re-run (it was registered from a file, or its run was deleted)`);
  }
  if (!d.dir) throw new UserError(`Deployment ${d.id} has no folder to keep its served rows in`);
  const { text, result } = servedRowsCsv(store, d.id);
  if (result.rows === 0) throw new UserError(`Deployment ${d.id} has served no rows yet: nothing to retrain on`);
  const folder = ensureRealDir(dataDirOf(options.workspace), join(d.dir, 'retrain'));
  const data = join(folder, `production-${Date.now()}.csv`);
  writeFileNoFollow(data, text);
  const handle = await rerun(store, source.runId, { ...options, env: { [PRODUCTION_DATA_ENV]: data }, inputs: [data] }, output);
  store.addEdge({ srcKind: 'deployment', srcId: d.id, dstKind: 'run', dstId: handle.run.id, relation: RETRAIN_RELATION });
  return { handle, data, rows: result.rows, source };
}

export type PromoteOutcome =
  | { promoted: true; version: ModelVersion; aliases: string[]; deployment: RollbackResult }
  | { promoted: false; reason: string };

/**
 * After a retrain run finished: registers its model (the same artifact path as the deployed
 * version's), moves the deployed version's aliases to it and rolls the deployment over on the same
 * target and port, keeping its token. Not promoted (and nothing changed) when the run failed or
 * its profile's gates do not pass.
 */
export async function promoteRetrained(store: Store, deploymentId: number, runId: number, options: { workspace: string }): Promise<PromoteOutcome> {
  const deployments = new Deployments(store, { workspace: options.workspace });
  const d = deployments.get(deploymentId);
  const run = store.run(runId);
  if (!run || run.status !== 'finished') return { promoted: false, reason: `run ${runId} did not finish (${run?.status ?? 'gone'})` };
  const source = deployments.registry.byId(d.modelVersionId)!;
  const artifact = source.snapshot.artifact?.path;
  if (!artifact) return { promoted: false, reason: `${d.model}@${d.version} does not say which file of its run is the model` };
  let version: ModelVersion;
  try {
    // Retraining on the same data with the same seed can give the same bytes: still the new run's version.
    version = deployments.registry.register({ name: d.model, run: runId, artifact, aliases: source.aliases, allowIdentical: true });
  } catch (err) {
    if (err instanceof GateError) return { promoted: false, reason: err.message };
    throw err;
  }
  const deployment = await deployments.rollTo(d.id, version, { keepToken: true });
  return { promoted: true, version, aliases: source.aliases, deployment };
}
