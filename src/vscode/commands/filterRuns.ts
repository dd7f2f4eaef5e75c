import * as vscode from 'vscode';
import { UserError } from '../../core/errors.ts';
import { RUN_STATUSES, type RunStatus } from '../../core/store/types.ts';
import { isFiltered, parseMetricFilter, parseParamFilter, sanitizeFilter, type RunFilterState } from '../views/experiments/state.ts';
import { COMMANDS } from '../commandIds.ts';
import { optionsOf } from './shared/args.ts';
import type { Container } from '../container.ts';
import type { CommandSpec } from './command.ts';
import type { Views } from '../views/views.ts';

export interface FilterRunsOptions {
  statuses?: RunStatus[];
  text?: string;
  /** `key=value`, or { key, value }. */
  param?: string | { key: string; value: string };
  /** `loss < 0.5`, or { key, op, value }. */
  metric?: string | { key: string; op: string; value: number };
}

/**
 * Filter Runs…: by status, name, a param value or a metric's last value. The filter is kept per
 * workspace. Called with options it replaces the filter without prompting.
 */
export const filterRunsCommand: CommandSpec = {
  id: COMMANDS.filterRuns,
  async run(container, views, ...args): Promise<RunFilterState | undefined> {
    const options = optionsOf<FilterRunsOptions>(args);
    if (Object.keys(options).length > 0) {
      const filter = sanitizeFilter({
        statuses: options.statuses,
        text: options.text,
        param: typeof options.param === 'string' ? parseParamFilter(options.param) : options.param,
        metric: typeof options.metric === 'string' ? parseMetricFilter(options.metric) : options.metric,
      });
      if (typeof options.metric === 'string' && !filter.metric) throw new UserError(`"${options.metric}" is not a metric filter like loss < 0.5`);
      await views.experiments.setFilter(filter);
      return filter;
    }
    const filter = await promptFilter(container, views);
    if (!filter) return undefined;
    await views.experiments.setFilter(filter);
    return filter;
  },
};

async function promptFilter(container: Container, views: Views): Promise<RunFilterState | undefined> {
  const current = views.experiments.state.filter;
  type Item = vscode.QuickPickItem & { key: 'status' | 'metric' | 'param' | 'text' | 'clear' };
  const items: Item[] = [
    { key: 'status', label: '$(pass) Status…', description: current.statuses?.join(', ') },
    { key: 'metric', label: '$(graph-line) Metric…', description: current.metric && `${current.metric.key} ${current.metric.op} ${current.metric.value}` },
    { key: 'param', label: '$(symbol-parameter) Param…', description: current.param && `${current.param.key}=${current.param.value}` },
    { key: 'text', label: '$(search) Name or ID…', description: current.text },
  ];
  if (isFiltered(current)) items.push({ key: 'clear', label: '$(clear-all) Clear filter' });
  const picked = await vscode.window.showQuickPick(items, { title: 'Filter Runs', placeHolder: 'Filter by' });
  if (!picked) return undefined;
  switch (picked.key) {
    case 'clear':
      return {};
    case 'status': {
      const statuses = await vscode.window.showQuickPick(
        RUN_STATUSES.map((status) => ({ label: status, picked: current.statuses?.includes(status) ?? false })),
        { title: 'Filter Runs: status', canPickMany: true, placeHolder: 'Show runs that are…' },
      );
      return statuses && { ...current, statuses: statuses.map((s) => s.label as RunStatus) };
    }
    case 'metric': {
      const store = await container.store();
      const key = await pickKey(store.metricKeys(), 'Filter Runs: metric', 'No metrics recorded yet.');
      if (!key) return undefined;
      const text = await vscode.window.showInputBox({
        title: `Filter Runs: ${key}`,
        prompt: 'A comparison with its last value, e.g. < 0.5 (operators < <= > >= = !=)',
        value: current.metric?.key === key ? `${current.metric.op} ${current.metric.value}` : '< ',
        validateInput: (input) => (parseMetricFilter(`${key} ${input}`) ? undefined : 'Write an operator and a number, e.g. < 0.5'),
      });
      return text === undefined ? undefined : { ...current, metric: parseMetricFilter(`${key} ${text}`) };
    }
    case 'param': {
      const store = await container.store();
      const key = await pickKey(store.paramKeys(), 'Filter Runs: param', 'No params recorded yet.');
      if (!key) return undefined;
      const value = await vscode.window.showInputBox({ title: `Filter Runs: ${key} =`, prompt: 'The value as recorded (e.g. 0.1, adam)', value: current.param?.key === key ? current.param.value : '' });
      return value === undefined ? undefined : { ...current, param: { key, value: value.trim() } };
    }
    case 'text': {
      const text = await vscode.window.showInputBox({ title: 'Filter Runs: name or ID', prompt: 'Part of the run name, or #ID; empty to clear', value: current.text ?? '' });
      return text === undefined ? undefined : { ...current, text: text.trim() || undefined };
    }
    default: {
      const never: never = picked.key;
      return never;
    }
  }
}

async function pickKey(keys: string[], title: string, empty: string): Promise<string | undefined> {
  if (keys.length === 0) throw new UserError(empty);
  return vscode.window.showQuickPick(keys, { title });
}
