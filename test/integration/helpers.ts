import * as vscode from 'vscode';
import type { LaunchResult } from '../../src/vscode/commands/shared/launching.ts';
import type { ExperimentsNode, GroupKind, GroupNode, RunNode } from '../../src/vscode/views/experiments/nodes.ts';
import type { RunboardApi } from '../../src/vscode/extension.ts';
import type { Store } from '../../src/core/store/store.ts';

export const EXTENSION_ID = 'runboard.runboard';
export const EXPERIMENT = 'fixture';

let api: RunboardApi | undefined;

/** The extension's exported API, activated once for the whole suite. */
export async function runboard(): Promise<RunboardApi> {
  if (api) return api;
  const extension = vscode.extensions.getExtension<RunboardApi>(EXTENSION_ID);
  if (!extension) throw new Error(`${EXTENSION_ID} is not installed in this host`);
  api = await extension.activate();
  return api;
}

export async function store(): Promise<Store> {
  return (await runboard()).container.store();
}

export async function waitFor<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 20_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((done) => setTimeout(done, everyMs));
  }
}

/** Launches the fixture's `train` profile through the command, as a test or another extension would. */
export async function launchTrain(params: Record<string, string | number | boolean> = {}, wait = true): Promise<LaunchResult> {
  const result = await vscode.commands.executeCommand<LaunchResult | undefined>('runboard.launchRun', { profile: 'train', params, wait });
  if (!result) throw new Error('runboard.launchRun returned nothing (see the reported error)');
  return result;
}

/** The run's node under its experiment in the Experiments tree, as VS Code would get it. */
export async function runNode(runId: number, experiment = EXPERIMENT): Promise<RunNode | undefined> {
  const tree = (await runboard()).trees.experiments;
  const experimentNode = (await tree.getChildren()).find((n) => n.kind === 'experiment' && n.name === experiment);
  if (!experimentNode) return undefined;
  return (await tree.getChildren(experimentNode)).find((n): n is RunNode => n.kind === 'run' && n.run.id === runId);
}

export async function group(node: RunNode, kind: GroupKind): Promise<GroupNode> {
  const tree = (await runboard()).trees.experiments;
  const found = (await tree.getChildren(node)).find((n): n is GroupNode => n.kind === 'group' && n.group === kind);
  if (!found) throw new Error(`run ${node.run.id} has no ${kind} group`);
  return found;
}

export async function children(node: ExperimentsNode): Promise<ExperimentsNode[]> {
  return (await runboard()).trees.experiments.getChildren(node);
}

/** A quick input the extension opened, once VS Code shows it; `focused` is the pick's active item. */
export interface ShownQuickInput {
  readonly title: string | undefined;
  focused: vscode.QuickPickItem | string | undefined;
  /** A pick's items, as the extension gave them. */
  items?: readonly (vscode.QuickPickItem | string)[];
}

/**
 * Answers the extension's quick inputs with the keyboard commands, each once VS Code shows it
 * (keys sent earlier are lost). The tests share the extension's `vscode` API object, so wrapping
 * `showQuickPick`/`showInputBox` sees its prompts: VS Code calls a pick's `onDidSelectItem` when
 * an item gets focus, and an input box's `validateInput` as it shows the box.
 */
export class QuickInputs implements vscode.Disposable {
  private readonly shown: ShownQuickInput[] = [];
  private answered = 0;
  private readonly restore: () => void;

  constructor() {
    const window = vscode.window as { showQuickPick: typeof vscode.window.showQuickPick; showInputBox: typeof vscode.window.showInputBox };
    const { showQuickPick, showInputBox } = window;
    const seen = (input: ShownQuickInput) => this.shown.includes(input) || this.shown.push(input);
    window.showQuickPick = ((items: readonly vscode.QuickPickItem[], options?: vscode.QuickPickOptions, token?: vscode.CancellationToken) => {
      const input: ShownQuickInput = { title: options?.title, focused: undefined };
      void Promise.resolve(items).then((given) => (input.items = given));
      const onDidSelectItem = (item: vscode.QuickPickItem | string) => {
        input.focused = item;
        seen(input);
        return options?.onDidSelectItem?.(item);
      };
      return showQuickPick(items, { ...options, onDidSelectItem }, token);
    }) as typeof vscode.window.showQuickPick;
    window.showInputBox = (options, token) => {
      const input: ShownQuickInput = { title: options?.title, focused: undefined };
      const validateInput = (value: string) => (seen(input), options?.validateInput?.(value));
      return showInputBox({ ...options, validateInput }, token);
    };
    this.restore = () => Object.assign(window, { showQuickPick, showInputBox });
  }

  /** Waits for the next quick input to show, moves `down` items (each move seen to land), then presses Enter. */
  async answer(down = 0): Promise<ShownQuickInput> {
    const input = await waitFor('the next quick input to show', () => this.shown[this.answered]);
    this.answered++;
    for (let i = 0; i < down; i++) {
      const before = input.focused;
      await vscode.commands.executeCommand('workbench.action.quickOpenSelectNext');
      await waitFor('the next item to get focus', () => input.focused !== before);
    }
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    return input;
  }

  /** Waits for the next quick input to show, then closes it as Escape would. */
  async dismiss(): Promise<ShownQuickInput> {
    const input = await waitFor('the next quick input to show', () => this.shown[this.answered]);
    this.answered++;
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    return input;
  }

  dispose(): void {
    this.restore();
  }
}
