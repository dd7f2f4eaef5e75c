import * as vscode from 'vscode';

/** Every `runboard.*` setting, read in one place so names and defaults never drift from package.json. */
export const SETTINGS = {
  databasePath: 'databasePath',
  pythonInterpreter: 'pythonInterpreter',
  sweepParallel: 'sweep.parallel',
  pageSize: 'tree.pageSize',
  keyMetric: 'tree.keyMetric',
  stopGraceSeconds: 'stopGraceSeconds',
  statusBar: 'statusBar.enabled',
  deployTargets: 'deployTargets',
  mlflowEnabled: 'mlflow.enabled',
  syncAutoPush: 'sync.autoPush',
  monitorBaselineRows: 'monitor.baselineRows',
  monitorCheckIntervalSeconds: 'monitor.checkIntervalSeconds',
} as const;

const section = (scope?: vscode.Uri) => vscode.workspace.getConfiguration('runboard', scope);

export const settings = {
  /** Empty means `.runboard/runboard.db` in the workspace folder. */
  databasePath: (): string => section().get<string>(SETTINGS.databasePath, '').trim(),
  pythonInterpreter: (scope?: vscode.Uri): string => section(scope).get<string>(SETTINGS.pythonInterpreter, '').trim(),
  /** 0 means the profile's `sweep.parallel`, else 1. */
  sweepParallel: (): number => clampInt(section().get<number>(SETTINGS.sweepParallel, 0), 0, 64, 0),
  pageSize: (): number => clampInt(section().get<number>(SETTINGS.pageSize, 200), 10, 5000, 200),
  keyMetric: (): string => section().get<string>(SETTINGS.keyMetric, '').trim(),
  stopGraceMs: (): number => Math.round(clampNumber(section().get<number>(SETTINGS.stopGraceSeconds, 10), 0, 600, 10) * 1000),
  statusBar: (): boolean => section().get<boolean>(SETTINGS.statusBar, true),
  /** Launches and new terminals get this window's MLflow tracking server in MLFLOW_* variables. */
  mlflowEnabled: (): boolean => section().get<boolean>(SETTINGS.mlflowEnabled, true),
  /** Remotes (names in .runboard/remotes.json, or URLs) that runs are pushed to when they end. */
  syncAutoPush: (): string[] => {
    const value = section().get<unknown>(SETTINGS.syncAutoPush, []);
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string' && v.trim() !== '') : [];
  },
  /** Rows a deployment serves first that become its drift reference when its model's run logged none. */
  monitorBaselineRows: (): number => clampInt(section().get<number>(SETTINGS.monitorBaselineRows, 500), 1, 100_000, 500),
  /** Milliseconds between monitoring checks of live deployments while neither the Deployments view nor a Monitor panel shows them. */
  monitorCheckIntervalMs: (): number => Math.round(clampNumber(section().get<number>(SETTINGS.monitorCheckIntervalSeconds, 60), 10, 86_400, 60) * 1000),
  /** Custom deploy targets by name; validated where they are used (a bad one is reported by name). */
  deployTargets: (): Record<string, unknown> => {
    const value = section().get<unknown>(SETTINGS.deployTargets, {});
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  },
};

export const affects = (event: vscode.ConfigurationChangeEvent, key: string): boolean => event.affectsConfiguration(`runboard.${key}`);

function clampNumber(value: unknown, min: number, max: number, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? Math.min(max, Math.max(min, value)) : fallback;
}

function clampInt(value: unknown, min: number, max: number, fallback: number): number {
  return Math.round(clampNumber(value, min, max, fallback));
}
