import { UserError } from '../../core/errors.ts';
import { addRemote, listRemotes, remotesFile, removeRemote } from '../../core/sync/remotes.ts';
import { resolveDbPath, workspaceOf } from '../../core/workspace.ts';
import { parse, table, toJson, type CliCommand, type CliContext } from '../command.ts';

export const remoteCommand: CliCommand = {
  name: 'remote',
  usage: 'runboard remote (add NAME URL | list | remove NAME) [--json]',
  summary: "The team's MLflow tracking servers to push to and pull from, kept in .runboard/remotes.json (never a secret: credentials come from MLFLOW_TRACKING_TOKEN, or MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD)",
  run(ctx) {
    const { values, positionals } = parse(ctx, remoteCommand, {});
    const [action = 'list', ...rest] = positionals;
    const workspace = workspaceOf(resolveDbPath(values.db, ctx.cwd, ctx.env));
    const expect = (count: number) => {
      if (rest.length !== count) throw new UserError(`remote ${action} takes ${count === 0 ? 'nothing more' : count === 1 ? 'a NAME' : 'NAME URL'}\nusage: ${remoteCommand.usage}`);
    };
    if (action === 'add') {
      expect(2);
      const remote = addRemote(workspace, rest[0]!, rest[1]!);
      say(ctx, values.json, remote, `runboard: remote ${remote.name} is ${remote.url} (in ${remotesFile(workspace)})`);
      return 0;
    }
    if (action === 'remove') {
      expect(1);
      const remote = removeRemote(workspace, rest[0]!);
      say(ctx, values.json, remote, `runboard: removed remote ${remote.name} (${remote.url}); what was synced with it stays recorded`);
      return 0;
    }
    if (action === 'list') {
      expect(0);
      const remotes = listRemotes(workspace);
      if (values.json) ctx.out(toJson(remotes));
      else if (remotes.length === 0) ctx.err('runboard: no remotes yet; add one with: runboard remote add NAME URL');
      else ctx.out(table(['NAME', 'URL'], remotes.map((r) => [r.name, r.url])));
      return 0;
    }
    throw new UserError(`unknown remote action "${action}"\nusage: ${remoteCommand.usage}`);
  },
};

function say(ctx: CliContext, json: boolean | undefined, value: unknown, line: string): void {
  if (json) ctx.out(toJson(value));
  else ctx.err(line);
}
