import * as vscode from 'vscode';
import type { Trust } from '../../trust.ts';

const GO_AHEAD = { register: 'Register Anyway', deploy: 'Deploy Anyway' } as const;

/**
 * Before an unvouched pickle (see the core's pickleWarning) is registered or deployed: refused in
 * Restricted Mode, else a modal asks. Programmatic callers, which pass every choice and cannot
 * answer a modal, get the warning as a notification. False when the user declines.
 */
export async function confirmPickle(trust: Trust, warning: string | undefined, action: keyof typeof GO_AHEAD, ask: boolean): Promise<boolean> {
  if (warning === undefined) return true;
  trust.require(`${action} a pickle that no run here wrote`);
  if (!ask) {
    void vscode.window.showWarningMessage(warning);
    return true;
  }
  const button = GO_AHEAD[action];
  return (await vscode.window.showWarningMessage(warning, { modal: true }, button)) === button;
}
