import { COMMANDS } from '../commandIds.ts';
import type { CommandSpec } from './command.ts';

/** Show Log: Runboard's own output channel. */
export const showLogCommand: CommandSpec = {
  id: COMMANDS.showLog,
  run(container, _views): void {
    container.log.show();
  },
};
