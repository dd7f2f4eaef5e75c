import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as vscode from 'vscode';
import { profilesPath } from '../../core/launch/profiles.ts';
import { COMMANDS } from '../commandIds.ts';
import type { CommandSpec } from './command.ts';

/** A starting point that passes the core's validation; `${interpreter}` is the selected Python. */
const TEMPLATE = {
  profiles: {
    train: {
      description: 'Train the model',
      command: ['${interpreter}', 'train.py', '--lr', '${param:lr}', '--epochs', '${param:epochs}'],
      params: [
        { name: 'lr', type: 'number', default: 0.01, description: 'Learning rate' },
        { name: 'epochs', type: 'int', default: 10, description: 'Passes over the data' },
      ],
      sweep: { grid: { lr: [0.1, 0.01, 0.001] }, parallel: 2 },
    },
  },
};

/** Open Launch Profiles: `.runboard/profiles.json`, created from a template when missing. */
export const openProfilesCommand: CommandSpec = {
  id: COMMANDS.openProfiles,
  async run(container, _views): Promise<string> {
    container.requireWorkspace();
    const file = profilesPath(container.workspace);
    if (!existsSync(file)) {
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, `${JSON.stringify(TEMPLATE, null, 2)}\n`, { flag: 'wx' });
      container.log.info(`Created ${file}`);
    }
    await vscode.window.showTextDocument(vscode.Uri.file(file));
    return file;
  },
};
