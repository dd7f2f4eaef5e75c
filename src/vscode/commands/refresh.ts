import { COMMANDS } from '../commandIds.ts';
import type { CommandSpec } from './command.ts';

/** Refresh: re-reads every view now (they also follow the database on their own). */
export const refreshCommand: CommandSpec = {
  id: COMMANDS.refresh,
  run(_container, views): void {
    views.experiments.refresh();
    views.models.refresh();
    views.deployments.refresh();
  },
};
