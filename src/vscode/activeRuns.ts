import * as vscode from 'vscode';
import type { Run } from '../core/store/types.ts';
import { Disposable, toDisposable } from './lifecycle.ts';
import type { RunTerminal } from './runTerminal.ts';

/** A run (or sweep) launched by this window: how to stop it and where its output goes. */
export interface ActiveRun {
  runId: number;
  kind: 'run' | 'sweep';
  /** SIGTERM, then SIGKILL after `graceMs`; settles once the run has ended. */
  stop(graceMs: number): Promise<void>;
  done: Promise<Run>;
}

/**
 * The runs this extension host launched and their terminals. Stopping one of these goes through
 * its handle (no polling); runs of other processes are stopped through the core's stopRun.
 */
export class ActiveRuns extends Disposable {
  private readonly entries = new Map<number, ActiveRun>();
  private readonly terminals = new Map<number, { terminal: vscode.Terminal; pty: RunTerminal }>();
  private readonly emitter = this._register(new vscode.EventEmitter<void>());
  readonly onDidChange = this.emitter.event;

  constructor() {
    super();
    this._register(
      toDisposable(() => {
        for (const { terminal, pty } of this.terminals.values()) {
          terminal.dispose();
          pty.dispose();
        }
        this.terminals.clear();
      }),
    );
    this._register(
      vscode.window.onDidCloseTerminal((closed) => {
        for (const [runId, { terminal, pty }] of this.terminals) {
          if (terminal === closed) {
            this.terminals.delete(runId);
            pty.dispose();
          }
        }
      }),
    );
  }

  add(entry: ActiveRun): void {
    this.entries.set(entry.runId, entry);
    this.emitter.fire();
    const forget = () => {
      if (this.entries.get(entry.runId) === entry) this.entries.delete(entry.runId);
      this.emitter.fire();
    };
    entry.done.then(forget, forget);
  }

  get(runId: number): ActiveRun | undefined {
    return this.entries.get(runId);
  }

  get size(): number {
    return this.entries.size;
  }

  ids(): number[] {
    return [...this.entries.keys()];
  }

  /**
   * A terminal showing a run's output: created hidden, shown when `show`. The terminals of runs
   * that have ended are closed first, so runs do not leave a pile of them behind.
   */
  openTerminal(runId: number, name: string, pty: RunTerminal, show: boolean): vscode.Terminal {
    for (const [id, ended] of this.terminals) {
      if (!ended.pty.hasEnded) continue;
      this.terminals.delete(id);
      ended.terminal.dispose();
      ended.pty.dispose();
    }
    const terminal = vscode.window.createTerminal({ name, pty, iconPath: new vscode.ThemeIcon('beaker'), isTransient: true });
    this.terminals.set(runId, { terminal, pty });
    if (show) terminal.show(true);
    return terminal;
  }

  terminal(runId: number): vscode.Terminal | undefined {
    return this.terminals.get(runId)?.terminal;
  }

  /**
   * Stops every run of this window (the window is closing: their output pipes close with it,
   * so they would die unrecorded). Waits at most `capMs`.
   */
  async stopAll(graceMs: number, capMs: number): Promise<void> {
    if (this.entries.size === 0) return;
    const all = Promise.allSettled([...this.entries.values()].map((e) => e.stop(graceMs)));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise((done) => (timer = setTimeout(done, capMs)))]);
    clearTimeout(timer);
  }
}
