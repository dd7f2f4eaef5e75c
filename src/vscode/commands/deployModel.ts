import * as vscode from 'vscode';
import { UserError } from '../../core/errors.ts';
import type { DeployResult } from '../../core/deploy/deployments.ts';
import { pickleWarning, vouchedVersion } from '../../core/registry/pickles.ts';
import type { ModelVersion } from '../../core/registry/registry.ts';
import { COMMANDS } from '../commandIds.ts';
import { registerModelCommand } from './registerModel.ts';
import { fileOfArgs, optionsOf } from './shared/args.ts';
import type { Container } from '../container.ts';
import type { CommandSpec } from './command.ts';
import type { Views } from '../views/views.ts';
import { DEPLOY_ANYWAY, overridingGates } from './shared/gates.ts';
import { confirmPickle } from './shared/pickles.ts';
import { locateModelFile, registeredVersionOf, suggestedModelName } from './shared/modelFiles.ts';
import { deploymentTokens } from './shared/tokens.ts';
import { settings } from '../settings.ts';

export interface DeployModelOptions {
  /** NAME, NAME@VERSION or NAME@ALIAS. */
  model?: string;
  /** local (default), docker, kubernetes or a custom target of .runboard/deploy.json. */
  target?: string;
  port?: number;
  force?: boolean;
  /**
   * Invoked on a file (Explorer, or an artifact of the Experiments view) that is not registered
   * yet: the name to register it under. Default: asked, or (with `target`) the run's profile or
   * the file's name.
   */
  name?: string;
}

const COPY_TOKEN = 'Copy Token';
const OPEN_URL = 'Open URL';

/**
 * Deploy Model…: serves a registered version on a target. Invoked on a model file (Explorer) or a
 * run's model artifact, it deploys the version registered from that file, registering it first
 * when there is none. Deploying loads the model (a pickle runs code), so it needs a trusted
 * workspace. The bearer token is handed out once, in the result message (and to programmatic
 * callers), and kept in SecretStorage for Test Endpoint; it is never logged.
 */
export const deployModelCommand: CommandSpec = {
  id: COMMANDS.deployModel,
  async run(container, views, ...args): Promise<DeployResult | undefined> {
    container.trust.require('deploy a model');
    const options = optionsOf<DeployModelOptions>(args);
    const node = args[0] as { kind?: string; version?: ModelVersion; file?: string } | undefined;
    const interactive = options.target === undefined;
    let ref = options.model ?? (node?.kind === 'version' && node.version ? `${node.version.name}@${node.version.version}` : undefined);
    if (ref === undefined && node?.kind === 'artifact' && !node.file) throw new UserError('The artifact file is not on this machine');
    const file = fileOfArgs(args) ?? (node?.kind === 'artifact' ? node.file : undefined);
    // Registering it here already asked about (or warned of) a pickle no run wrote.
    let pickleAsked = false;
    if (ref === undefined && file !== undefined) {
      const found = await versionOfFile(container, views, file, options, interactive);
      if (!found) return undefined;
      ref = `${found.version.name}@${found.version.version}`;
      pickleAsked = found.registered;
    }
    if (ref === undefined) {
      const versions = (await container.registry()).list();
      if (versions.length === 0) throw new UserError('No model is registered yet: register a run\'s artifact first (Runboard: Register Model…).');
      const picked = await vscode.window.showQuickPick(
        versions.map((v) => ({ label: `${v.name}@${v.version}`, description: [v.aliases.join(', '), v.runId !== null ? `run ${v.runId}` : 'no lineage'].filter(Boolean).join(' · '), ref: `${v.name}@${v.version}` })),
        { title: 'Deploy Model', placeHolder: 'Which version?' },
      );
      if (!picked) return undefined;
      ref = picked.ref;
    }
    const deployments = await container.deployments();
    let target = options.target;
    if (target === undefined) {
      const picked = await vscode.window.showQuickPick(
        deployments.targetNames().map((name) => ({ label: name, description: name === 'local' ? 'a local process on a free port' : undefined })),
        { title: `Deploy ${ref}`, placeHolder: 'Target' },
      );
      if (!picked) return undefined;
      target = picked.label;
    }
    const model = (await container.registry()).resolve(ref);
    if (!pickleAsked && !(await confirmPickle(container.trust, pickleWarning(model.storedPath, vouchedVersion(model)), 'deploy', interactive))) return undefined;
    const result = await overridingGates(
      (force) =>
        vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Runboard: deploying ${ref} to ${target}…` }, () =>
          deployments.deploy(ref, { target, port: options.port, force, baselineRows: settings.monitorBaselineRows() }),
        ),
      { ...DEPLOY_ANYWAY, force: options.force, ask: interactive },
    );
    if (!result) return undefined;
    const d = result.deployment;
    if (d.status !== 'failed') await deploymentTokens(container).set(d, result.token);
    container.log.info(`Deployment ${d.id}: ${d.model}@${d.version} → ${d.target}: ${d.status}${d.url ? ` at ${d.url}` : ''}`);
    if (d.status === 'failed') throw new UserError(`Deploying ${d.model}@${d.version} to ${d.target} failed: ${d.error ?? 'see the deployment folder'}`);
    if (interactive) void announce(result);
    return result;
  },
};

/** The version registered from this file, registering it now when there is none. */
async function versionOfFile(
  container: Container,
  views: Views,
  file: string,
  options: Partial<DeployModelOptions>,
  interactive: boolean,
): Promise<{ version: ModelVersion; registered: boolean } | undefined> {
  const store = await container.store();
  const registry = await container.registry();
  const located = locateModelFile(store, registry, file);
  const known = registeredVersionOf(registry, located);
  if (known) return { version: known, registered: false };
  const name = options.name ?? (interactive ? undefined : suggestedModelName(located));
  const version = (await registerModelCommand.run(container, views, vscode.Uri.file(located.path), {
    name,
    aliases: name === undefined ? undefined : [],
    force: options.force,
    offerDeploy: false,
  })) as ModelVersion | undefined;
  return version && { version, registered: true };
}

async function announce(result: DeployResult): Promise<void> {
  const d = result.deployment;
  const buttons = d.url ? [COPY_TOKEN, OPEN_URL] : [COPY_TOKEN];
  const text = `${d.model}@${d.version} → ${d.target}: ${d.status}${d.url ? ` at ${d.url}` : ''}.${d.message ? ` ${d.message}` : ''} Its bearer token is shown only now (Test Endpoint keeps using it): copy it.`;
  const choice = await vscode.window.showInformationMessage(text, ...buttons);
  if (choice === COPY_TOKEN) await vscode.env.clipboard.writeText(result.token);
  if (choice === OPEN_URL && d.url) await vscode.env.openExternal(vscode.Uri.parse(d.url));
}
