import * as vscode from 'vscode';
import { EXPERIMENTS_VIEW } from '../views/experiments/tree.ts';
import { COMMANDS } from '../commandIds.ts';
import type { CommandSpec } from './command.ts';

/** Show Runboard: focuses the Experiments view (the status bar item runs this). */
export const focusViewCommand: CommandSpec = {
  id: COMMANDS.focusView,
  async run(): Promise<void> {
    await vscode.commands.executeCommand(`${EXPERIMENTS_VIEW}.focus`);
  },
};
