import { COMMANDS } from './ids.ts';
import type { CommandSpec } from './shared/context.ts';

/** Show Log: Runboard's own output channel. */
export const showLogCommand: CommandSpec = {
  id: COMMANDS.showLog,
  run(ctx): void {
    ctx.services.log.show();
  },
};
