import * as vscode from 'vscode';
import { EXPERIMENTS_VIEW } from '../views/experiments/tree.ts';
import { COMMANDS } from './ids.ts';
import type { CommandSpec } from './shared/context.ts';

/** Show Runboard: focuses the Experiments view (the status bar item runs this). */
export const focusViewCommand: CommandSpec = {
  id: COMMANDS.focusView,
  async run(): Promise<void> {
    await vscode.commands.executeCommand(`${EXPERIMENTS_VIEW}.focus`);
  },
};
