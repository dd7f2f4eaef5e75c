// No `vscode` import: the presenters that use it run (and are tested) on plain Node.
import { UserError } from '../../core/errors.ts';

/** What a presenter reports a failed page action through (each presenter's port has both). */
export interface ActionErrorPort {
  showError(text: string): void;
  log(level: 'error', message: string): void;
}

/**
 * Runs what a page asked for. A failure is shown to the user, never thrown into the message
 * loop; it is also logged, as "`what` failed", unless it is the user's own mistake (a UserError).
 */
export async function runPageAction(port: ActionErrorPort, what: string, action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    if (!(err instanceof UserError)) port.log('error', `${what} failed: ${text}`);
    port.showError(text);
  }
}
