import * as vscode from 'vscode';
import { UserError } from '../../core/errors.ts';
import { sanitizeSort, SORT_KEYS, type SortKey, type SortState } from '../views/experiments/state.ts';
import { COMMANDS } from '../commandIds.ts';
import { optionsOf } from './shared/args.ts';
import type { CommandSpec } from './command.ts';

export interface SortRunsOptions {
  by?: SortKey;
  /** With `by: 'metric'`: the metric whose last value orders the runs. */
  metric?: string;
  descending?: boolean;
}

/** Sort Runs…: newest, oldest, name, status, duration, or a metric's last value. Kept per workspace. */
export const sortRunsCommand: CommandSpec = {
  id: COMMANDS.sortRuns,
  async run(container, views, ...args): Promise<SortState | undefined> {
    const options = optionsOf<SortRunsOptions>(args);
    if (options.by !== undefined) {
      if (!SORT_KEYS.includes(options.by)) throw new UserError(`Cannot sort by "${String(options.by)}" (sort keys: ${SORT_KEYS.join(', ')})`);
      const sort = sanitizeSort({ by: options.by, metric: options.metric, descending: options.descending ?? true });
      await views.experiments.setSort(sort);
      return sort;
    }
    type Item = vscode.QuickPickItem & { sort?: SortState };
    const items: Item[] = [
      { label: '$(arrow-down) Newest first', sort: { by: 'created', descending: true } },
      { label: '$(arrow-up) Oldest first', sort: { by: 'created', descending: false } },
      { label: '$(case-sensitive) Name', sort: { by: 'name', descending: false } },
      { label: '$(pass) Status', sort: { by: 'status', descending: false } },
      { label: '$(watch) Longest first', sort: { by: 'duration', descending: true } },
      { label: '$(graph-line) Metric…' },
    ];
    const picked = await vscode.window.showQuickPick(items, { title: 'Sort Runs' });
    if (!picked) return undefined;
    let sort = picked.sort;
    if (!sort) {
      const keys = (await container.store()).metricKeys();
      if (keys.length === 0) throw new UserError('No metrics recorded yet.');
      const metric = await vscode.window.showQuickPick(keys, { title: 'Sort Runs: by metric (its last value)' });
      if (!metric) return undefined;
      const direction = await vscode.window.showQuickPick(
        [
          { label: '$(arrow-up) Lowest first', descending: false },
          { label: '$(arrow-down) Highest first', descending: true },
        ],
        { title: `Sort Runs by ${metric}` },
      );
      if (!direction) return undefined;
      sort = { by: 'metric', metric, descending: direction.descending };
    }
    await views.experiments.setSort(sort);
    return sort;
  },
};
