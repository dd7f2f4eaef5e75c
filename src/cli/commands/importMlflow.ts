import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../core/errors.ts';
import { importMlflowStore } from '../../core/mlflow/importStore.ts';
import { openStore, parse, requirePositional, toJson, type CliCommand } from '../command.ts';

export const importMlflowCommand: CliCommand = {
  name: 'import-mlflow',
  usage: 'runboard import-mlflow PATH [--json]',
  summary:
    "Load an MLflow file store (an mlruns/ folder, or a file: tracking URI): experiments, runs, params, tags, metric histories and artifacts, each run once (by MLflow run id); exits 1 when something was left out",
  async run(ctx) {
    const { values, positionals } = parse(ctx, importMlflowCommand, {});
    requirePositional(positionals, 1, importMlflowCommand);
    const root = mlrunsFolder(positionals[0]!, ctx.cwd);
    const store = openStore(ctx, values.db);
    try {
      const report = importMlflowStore(store, root);
      if (values.json) {
        ctx.out(toJson(report));
      } else {
        for (const problem of report.problems) ctx.err(`runboard import-mlflow: ${problem}`);
        for (const run of report.imported) ctx.err(`runboard: imported MLflow run ${run.mlflowId} as run ${run.id} (${run.name}, ${run.experiment})`);
        const skipped = report.skipped.length ? `; ${report.skipped.length} imported before, left as they are` : '';
        ctx.out(`Imported ${report.imported.length} run${report.imported.length === 1 ? '' : 's'} from ${root}${skipped}${report.problems.length ? `; ${report.problems.length} left out (above)` : ''}.`);
      }
      return report.problems.length ? 1 : 0;
    } finally {
      store.close();
    }
  },
};

/** The folder holding the experiments: PATH itself, its `mlruns/`, or a `file:` URI's path. */
function mlrunsFolder(path: string, cwd: string): string {
  const dir = path.startsWith('file:') ? fileURLToPath(path) : resolve(cwd, path);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`${path} is not a folder: give the mlruns/ folder of an MLflow file store`);
  if (!existsSync(join(dir, '0', 'meta.yaml')) && existsSync(join(dir, 'mlruns'))) return join(dir, 'mlruns');
  return dir;
}
