import * as vscode from 'vscode';
import { settings } from './settings.ts';

/**
 * The slice of the Python extension's exported API that Runboard reads (ms-python.python; the
 * shape published as @vscode/python-extension). Declared here so the extension neither depends
 * on that package nor requires the Python extension: every member is optional and checked.
 */
interface PythonExtensionApi {
  ready?: Promise<void>;
  environments?: {
    getActiveEnvironmentPath?(resource?: vscode.Uri): { id: string; path: string } | undefined;
    resolveEnvironment?(environment: { id: string; path: string } | string): Promise<{ executable?: { uri?: vscode.Uri } } | undefined>;
  };
  settings?: {
    getExecutionDetails?(resource?: vscode.Uri): { execCommand?: string[] | undefined };
  };
}

export const PYTHON_EXTENSION_ID = 'ms-python.python';
const ACTIVATE_TIMEOUT_MS = 5000;

export interface InterpreterChoice {
  /** Undefined: let the profile decide (its `interpreter`, else python3). */
  path: string | undefined;
  source: 'setting' | 'python-extension' | 'profile';
}

/**
 * The Python a launch should use: `runboard.pythonInterpreter` when set, else the interpreter
 * selected in the Python extension (when installed), else undefined so the profile's own
 * `interpreter` (else python3) applies.
 */
export async function chooseInterpreter(resource: vscode.Uri | undefined, log: vscode.LogOutputChannel): Promise<InterpreterChoice> {
  const configured = settings.pythonInterpreter(resource);
  if (configured) return { path: configured, source: 'setting' };
  const selected = await pythonExtensionInterpreter(resource, log);
  if (selected) return { path: selected, source: 'python-extension' };
  return { path: undefined, source: 'profile' };
}

async function pythonExtensionInterpreter(resource: vscode.Uri | undefined, log: vscode.LogOutputChannel): Promise<string | undefined> {
  const extension = vscode.extensions.getExtension<PythonExtensionApi>(PYTHON_EXTENSION_ID);
  if (!extension) return undefined;
  try {
    const api = extension.isActive ? extension.exports : await withTimeout(Promise.resolve(extension.activate()), ACTIVATE_TIMEOUT_MS);
    if (!api) return undefined;
    if (api.ready) await withTimeout(api.ready, ACTIVATE_TIMEOUT_MS);
    const environments = api.environments;
    const active = environments?.getActiveEnvironmentPath?.(resource);
    if (active && environments?.resolveEnvironment) {
      const resolved = await withTimeout(environments.resolveEnvironment(active), ACTIVATE_TIMEOUT_MS);
      const executable = resolved?.executable?.uri?.fsPath;
      if (executable) return executable;
    }
    // Older releases only had the execution details.
    return api.settings?.getExecutionDetails?.(resource).execCommand?.[0] || undefined;
  } catch (err) {
    log.warn(`Could not read the interpreter selected in the Python extension: ${(err as Error).message}`);
    return undefined;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((done) => (timer = setTimeout(() => done(undefined), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
