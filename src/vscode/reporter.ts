import * as vscode from 'vscode';
import { storageProblem, UserError } from '../core/errors.ts';
import { Disposable } from './lifecycle.ts';
import { showTrustRefusal, TrustError } from './trust.ts';

const SHOW_LOG = 'Show Log';

export interface ReportedError {
  command: string;
  message: string;
  /** A UserError (shown as is) rather than a fault. */
  user: boolean;
  trust: boolean;
}

/**
 * Turns errors from handlers into messages, so neither the host nor the caller ever sees an
 * exception from us: a UserError's text is shown as is; anything else is logged with its stack
 * and shown with a Show Log button. Tests (and curious extensions) can follow `onDidReport`.
 */
export class Reporter extends Disposable {
  private readonly emitter = this._register(new vscode.EventEmitter<ReportedError>());
  readonly onDidReport = this.emitter.event;
  private readonly log: vscode.LogOutputChannel;

  constructor(log: vscode.LogOutputChannel) {
    super();
    this.log = log;
  }

  report(command: string, err: unknown): void {
    const storage = storageProblem(err);
    const error: Error = storage ? new UserError(storage) : err instanceof Error ? err : new Error(String(err));
    const trust = error instanceof TrustError;
    const user = error instanceof UserError;
    this.emitter.fire({ command, message: error.message, user, trust });
    if (trust) {
      this.log.warn(`${command}: ${error.message}`);
      void showTrustRefusal(error);
    } else if (user) {
      this.log.info(`${command}: ${error.message}`);
      void vscode.window.showErrorMessage(error.message);
    } else {
      this.log.error(`${command} failed`, error);
      void vscode.window.showErrorMessage(`Runboard: ${error.message}`, SHOW_LOG).then((choice) => {
        if (choice === SHOW_LOG) this.log.show();
      });
    }
  }
}
