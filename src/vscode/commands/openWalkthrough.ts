import * as vscode from 'vscode';
import { COMMANDS, WALKTHROUGH_ID } from '../commandIds.ts';
import type { CommandSpec } from './command.ts';

/** Get Started: opens the walkthrough. */
export const openWalkthroughCommand: CommandSpec = {
  id: COMMANDS.openWalkthrough,
  async run(): Promise<void> {
    await vscode.commands.executeCommand('workbench.action.openWalkthrough', WALKTHROUGH_ID, false);
  },
};
