/**
 * Progress bars (tqdm, rich, Keras) redraw one terminal line with `\r` many times a second. A
 * terminal shows only the last drawing; capture must read it once, not once per redraw, and must
 * not take a 10-minute epoch of redraws (megabytes without a `\n`) for one over-long line.
 */

/** What splits a byte stream into lines: LineSplitter in capture. */
export interface LineSource {
  push(chunk: Buffer, onLine: (line: string, overlong: boolean) => void): void;
  end(onLine: (line: string, overlong: boolean) => void): void;
  reset(): void;
}

const CR = 0x0d;
const LF = 0x0a;
const CR_LF = Buffer.from('\r\n');
const LF_ONLY = Buffer.from('\n');

/**
 * Wraps a line splitter so that each `\r` redraw becomes a line of its own that ends in `\r`,
 * held back until it is known to be its bar's last drawing: when a `\n` ends the bar (the line
 * after it is what the terminal kept), when a different bar or plain text replaces it, or when
 * the stream ends. A released drawing keeps its trailing `\r`, so the reader knows it is a bar's
 * last state even if the bar never reached 100 % (see splitProgressBar). `\r\n` is a plain line end.
 */
export class ProgressFolding implements LineSource {
  private readonly lines: LineSource;
  /** A chunk ended in `\r`: whether it is a line end or a redraw depends on the next byte. */
  private pendingCr = false;
  private held: string | undefined;

  constructor(lines: LineSource) {
    this.lines = lines;
  }

  push(chunk: Buffer, onLine: (line: string, overlong: boolean) => void): void {
    const fold = (line: string, overlong: boolean) => this.fold(line, overlong, onLine);
    // The common case, output without any `\r`, passes through untouched.
    if (!this.pendingCr && chunk.indexOf(CR) < 0) return this.lines.push(chunk, fold);
    this.lines.push(this.markRedraws(chunk), fold);
  }

  end(onLine: (line: string, overlong: boolean) => void): void {
    const fold = (line: string, overlong: boolean) => this.fold(line, overlong, onLine);
    // An unfinished last line is what the terminal shows at the end: a bar's last drawing, if it is one.
    this.lines.push(CR_LF, fold);
    this.pendingCr = false;
    this.lines.end(fold);
    this.release(onLine);
  }

  reset(): void {
    this.pendingCr = false;
    this.held = undefined;
    this.lines.reset();
  }

  /** Lone `\r` → `\r\n` (a redraw, kept recognisable by its `\r`); `\r\n` → `\n`. */
  private markRedraws(chunk: Buffer): Buffer {
    const parts: Buffer[] = [];
    let start = 0;
    if (this.pendingCr) {
      parts.push(chunk[0] === LF ? LF_ONLY : CR_LF);
      if (chunk[0] === LF) start = 1;
      this.pendingCr = false;
    }
    for (let cr = chunk.indexOf(CR, start); cr >= 0; cr = chunk.indexOf(CR, start)) {
      parts.push(chunk.subarray(start, cr));
      if (cr + 1 === chunk.length) {
        this.pendingCr = true;
        start = chunk.length;
        break;
      }
      if (chunk[cr + 1] === LF) {
        parts.push(LF_ONLY);
        start = cr + 2;
      } else {
        parts.push(CR_LF);
        start = cr + 1;
      }
    }
    parts.push(chunk.subarray(start));
    return Buffer.concat(parts);
  }

  private fold(line: string, overlong: boolean, onLine: (line: string, overlong: boolean) => void): void {
    if (overlong) return onLine(line, true);
    const redraw = line.charCodeAt(line.length - 1) === CR;
    if (redraw) {
      // A bar being cleared (tqdm's leave=False) draws blanks: the bar shown before it still counts.
      if (line.trim() === '') return;
      if (this.held !== undefined && !sameBar(this.held, line)) onLine(this.held, false);
      this.held = line;
      return;
    }
    if (this.held !== undefined) {
      if (line.trim() === '' || !sameBar(this.held, line)) onLine(this.held, false);
      this.held = undefined;
    }
    onLine(line, false);
  }

  private release(onLine: (line: string, overlong: boolean) => void): void {
    if (this.held !== undefined) onLine(this.held, false);
    this.held = undefined;
  }
}

/** The first progress counter of a drawing: `45%|` or `850/1875`. */
const COUNTER = /(\d+)%\||(\d+)\/\d+/;
const DIGITS = /\d+(?:\.\d+)?/g;

/**
 * Whether `next` redraws the bar `previous` showed: same text before the counter and a counter
 * that did not go back (Lightning redraws every epoch on one line: `Epoch 0: 100%` → `Epoch 1: 0%`).
 * Drawings without a counter (a hand-written `\rstep 5 loss 0.3`) redraw each other. The description
 * counts as the same whatever its numbers.
 */
function sameBar(previous: string, next: string): boolean {
  const a = COUNTER.exec(previous);
  const b = COUNTER.exec(next);
  if (!a || !b) return !a && !b;
  // Digits in a description change as it counts (`loss 0.9012: 50%` → `loss 0.5123: 100%`).
  if (previous.slice(0, a.index).replace(DIGITS, '0').trim() !== next.slice(0, b.index).replace(DIGITS, '0').trim()) return false;
  return Number(b[1] ?? b[2]) >= Number(a[1] ?? a[2]);
}

export interface ProgressBar {
  /** Text before the bar: tqdm's description, rich's columns before the bar. */
  desc: string;
  /** Text after the bar: elapsed time, rate and postfix pairs (tqdm), Keras' ` - loss: 0.2`. */
  tail: string;
  complete: boolean;
}

// tqdm: `{desc}: 45%|████▌     | 850/1875 [00:07<00:08, 120.00it/s, loss=0.3]`, also with ascii bars.
const TQDM = /^(.*?)(\d+)%\|[^|]*\|\s*(\d+(?:\.\d+)?[kMGT]?)\/(\d+(?:\.\d+)?[kMGT]?)\s*(\[.*)$/;
// tqdm without a total: `{desc}: 1200it [00:10, 120.00it/s, loss=0.3]`.
const TQDM_UNSIZED = /^(.*?)\b\d+it \[(.*)$/;
// Keras 2: `1875/1875 [==============================] - 5s 3ms/step - loss: 0.29`.
const KERAS = /^(.*?)(\d+)\/(\d+) \[[=>.]*\](.*)$/;
// Keras 3 and rich: a run of box-drawing characters.
const GLYPHS = /[━─╸╺█▏▎▍▌▋▊▉]+/;
const COUNT_BEFORE = /(\d+)\/(\d+)\s*$/;
const COUNT_AFTER = /^\s*(\d+)\/(\d+)\b/;

/** Splits a visible line into the parts around its progress bar; undefined when it shows none. */
export function splitProgressBar(line: string): ProgressBar | undefined {
  // Cheap tests first: most lines are no bar at all.
  const tqdm = line.includes('%|') ? TQDM.exec(line) : null;
  if (tqdm) return { desc: tqdm[1]!, tail: tqdm[5]!, complete: tqdm[3] === tqdm[4] };
  const keras = line.includes(' [') ? KERAS.exec(line) : null;
  if (keras) return { desc: keras[1]!, tail: keras[4]!, complete: keras[2] === keras[3] };
  const unsized = line.includes('it [') ? TQDM_UNSIZED.exec(line) : null;
  if (unsized) return { desc: unsized[1]!, tail: unsized[2]!, complete: false };
  const glyphs = GLYPHS.exec(line);
  if (!glyphs) return undefined;
  let desc = line.slice(0, glyphs.index);
  let tail = line.slice(glyphs.index + glyphs[0].length);
  // rich counts after the bar (`Epoch 2/9 ━━━ 1875/1875`), Keras 3 before it (`1875/1875 ━━━ 5s`).
  const after = COUNT_AFTER.exec(tail);
  const before = after ? null : COUNT_BEFORE.exec(desc);
  const counter = after ?? before;
  // Box-drawing without a counter is a separator line or a table border, not a bar.
  if (!counter) return undefined;
  if (after) tail = tail.slice(after[0].length);
  else desc = desc.slice(0, before!.index);
  return { desc, tail, complete: counter[1] === counter[2] };
}

/**
 * What a terminal would show of a line: the text after its last carriage return (a released bar
 * drawing ends in one), without ANSI colour codes or backspaces (Keras erases with `\b`), trimmed.
 */
export function visibleText(raw: string): string {
  let line = raw.trimEnd();
  const cr = line.lastIndexOf('\r');
  if (cr >= 0) line = line.slice(cr + 1);
  if (line.includes('\x1b')) line = line.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
  if (line.includes('\b')) line = line.replaceAll('\b', '');
  return line.trim();
}

/** Whether a line is a progress bar's last drawing, released by ProgressFolding. */
export const isReleasedDrawing = (raw: string): boolean => raw.charCodeAt(raw.length - 1) === CR;
