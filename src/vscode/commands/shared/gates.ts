import * as vscode from 'vscode';
import { GateError } from '../../../core/registry/registry.ts';

export interface GateOverride {
  /** Whether to force from the start (default false). */
  force?: boolean;
  /** Whether the user may be asked; otherwise a gate failure is thrown. */
  ask: boolean;
  question: string;
  button: string;
}

/** Deploy Model and Rollback ask alike. */
export const DEPLOY_ANYWAY = { question: 'Deploy it anyway? The failing gates are recorded on the deployment.', button: 'Deploy Anyway' };

/**
 * Runs `attempt`; when promotion gates fail and the user may be asked, asks whether to go ahead
 * anyway and runs it again forced. Undefined when the user declines.
 */
export async function overridingGates<T>(attempt: (force: boolean) => T | PromiseLike<T>, o: GateOverride): Promise<T | undefined> {
  try {
    return await attempt(o.force ?? false);
  } catch (err) {
    if (!(err instanceof GateError) || !o.ask) throw err;
    const choice = await vscode.window.showWarningMessage(`${err.message}\n\n${o.question}`, { modal: true }, o.button);
    if (choice !== o.button) return undefined;
    return attempt(true);
  }
}
