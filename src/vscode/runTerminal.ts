import { StringDecoder } from 'node:string_decoder';
import * as vscode from 'vscode';
import type { Run } from '../core/store/types.ts';
import { Disposable } from './lifecycle.ts';

/** What a terminal keeps while nobody has opened it yet (the rest is in the run's stdout.log). */
const MAX_BUFFERED_CHARS = 1024 * 1024;
const CTRL_C = '\x03';
const DIM = '\x1b[2m';
const YELLOW = '\x1b[33m';
const BOLD = '\x1b[1m';
const RESET = '\x1b[0m';

/**
 * A run terminal's name: the run's own, with its id for runs of the same name. Not prefixed with
 * "Runboard:" (the beaker icon says whose it is): a narrow tab list cut every name to "Runboar…".
 */
export const terminalName = (run: Pick<Run, 'id' | 'name'>): string => `${run.name} #${run.id}`;

/**
 * A run's live output in a terminal. It shows what the process prints (the run folder's
 * stdout.log/stderr.log keep everything); Ctrl-C stops the run as in a shell (SIGTERM, SIGKILL
 * after the grace period), a second Ctrl-C kills it at once. Once the run has ended, any key
 * closes the terminal.
 */
export class RunTerminal extends Disposable implements vscode.Pseudoterminal {
  private readonly writes = this._register(new vscode.EventEmitter<string>());
  private readonly closes = this._register(new vscode.EventEmitter<void>());
  readonly onDidWrite = this.writes.event;
  readonly onDidClose = this.closes.event;
  private opened = false;
  private buffer: string[] = [];
  private bufferedChars = 0;
  private ended = false;
  private interrupts = 0;
  private readonly out = new StringDecoder('utf8');
  private readonly err = new StringDecoder('utf8');
  /** Called on each Ctrl-C while the run is live, with how many there were (the second kills at once). */
  onInterrupt: ((count: number) => void) | undefined;

  /** The run has ended: the terminal only shows history, and the next run's terminal replaces it. */
  get hasEnded(): boolean {
    return this.ended;
  }

  open(): void {
    this.opened = true;
    for (const text of this.buffer) this.writes.fire(text);
    this.buffer = [];
    this.bufferedChars = 0;
  }

  close(): void {
    // The user closed the terminal: the run goes on (stop it from the view or the status bar).
    this.opened = false;
  }

  handleInput(data: string): void {
    if (this.ended) {
      this.closes.fire();
      return;
    }
    if (data.includes(CTRL_C) && this.onInterrupt) {
      this.interrupts++;
      if (this.interrupts === 1) this.info('^C stopping the run (Ctrl-C again to kill it at once)…');
      else if (this.interrupts === 2) this.info('^C killing the run…');
      this.onInterrupt(this.interrupts);
    }
  }

  stdout(chunk: Buffer): void {
    this.write(this.out.write(chunk));
  }

  stderr(chunk: Buffer): void {
    this.write(this.err.write(chunk));
  }

  info(text: string): void {
    this.write(`${DIM}[runboard] ${text}${RESET}\n`);
  }

  warn(text: string): void {
    this.write(`${YELLOW}[runboard] warning: ${text}${RESET}\n`);
  }

  /** The run's outcome, and the hint that a key closes the terminal. */
  end(run: Run): void {
    this.write(this.out.end() + this.err.end());
    const detail = [run.signal, run.exitCode !== null ? `exit code ${run.exitCode}` : '', run.error ?? ''].filter(Boolean).join(', ');
    this.write(`\n${BOLD}[runboard] run ${run.id} (${run.name}) ${run.status}${detail ? `: ${detail}` : ''}${RESET}\n`);
    this.write(`${DIM}Press any key to close this terminal.${RESET}\n`);
    this.ended = true;
  }

  private write(text: string): void {
    if (!text) return;
    // A terminal needs CRLF; a bare \r (progress bars) is kept as is.
    const data = text.replace(/\r?\n/g, '\r\n');
    if (this.opened) {
      this.writes.fire(data);
      return;
    }
    this.buffer.push(data);
    this.bufferedChars += data.length;
    while (this.bufferedChars > MAX_BUFFERED_CHARS && this.buffer.length > 1) this.bufferedChars -= this.buffer.shift()!.length;
  }
}
