import * as vscode from 'vscode';
import { UserError } from '../core/errors.ts';

const MANAGE = 'Manage Workspace Trust';

/** Refused because the workspace is not trusted; the reporter offers the trust editor. */
export class TrustError extends UserError {
  override name = 'TrustError';
}

/**
 * Workspace Trust for actions that run code from the workspace (training scripts, profiles'
 * commands, deploy targets). The handlers check it themselves: menus hide the actions with
 * `isWorkspaceTrusted`, but the command palette, keybindings and other extensions can still
 * call them.
 */
export class Trust {
  /**
   * Tests set this to take the untrusted path inside a host that trusts the workspace (the
   * harness starts VS Code with --disable-workspace-trust). It can only take trust away, so
   * exposing it to other extensions cannot grant trust.
   */
  private simulatedUntrusted = false;

  get trusted(): boolean {
    return vscode.workspace.isTrusted && !this.simulatedUntrusted;
  }

  simulateUntrusted(on: boolean): void {
    this.simulatedUntrusted = on;
  }

  /** Throws a TrustError naming what was refused, e.g. `require('launch a run')`. */
  require(action: string): void {
    if (this.trusted) return;
    throw new TrustError(
      `Runboard cannot ${action} in Restricted Mode: it would run code from this workspace (training scripts, profile commands, deploy targets). ` +
        'Trust the workspace to enable it; runs, models and deployments stay readable meanwhile.',
    );
  }
}

/** Shows a trust refusal with a button that opens the trust editor. */
export async function showTrustRefusal(error: TrustError): Promise<void> {
  const choice = await vscode.window.showWarningMessage(error.message, MANAGE);
  if (choice === MANAGE) await vscode.commands.executeCommand('workbench.trust.manage');
}
