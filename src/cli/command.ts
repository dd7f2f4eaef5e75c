import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from '../core/errors.ts';
import { Store } from '../core/store/store.ts';
import { resolveDbPath } from '../core/workspace.ts';

export type Options = NonNullable<ParseArgsConfig['options']>;

export interface CliContext {
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  out(text: string): void;
  err(text: string): void;
}

export interface CliCommand {
  name: string;
  usage: string;
  summary: string;
  /** Resolves to the process exit code. */
  run(ctx: CliContext): Promise<number> | number;
}

/** Options every command accepts. */
export const GLOBAL_OPTIONS = {
  db: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies Options;

/** Strict parsing: an unknown flag is a user error naming the command's usage. */
export function parse<O extends Options>(ctx: CliContext, command: CliCommand, options: O) {
  try {
    return parseArgs({ args: ctx.args, options: { ...GLOBAL_OPTIONS, ...options }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UserError(`${(err as Error).message.split('\n')[0]}\nusage: ${command.usage}`);
  }
}

export function openStore(ctx: CliContext, db: string | undefined, readonly = false): Store {
  return Store.open(resolveDbPath(db, ctx.cwd, ctx.env), { readonly });
}

/** JSON with NaN and ±Inf kept as the strings "NaN", "Infinity", "-Infinity" (JSON has no such numbers). */
export function toJson(value: unknown): string {
  return JSON.stringify(value, (_key, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2);
}

// C0 controls but tab and newline, DEL, C1 controls (U+009B is an 8-bit CSI), and the
// bidirectional overrides that reorder what a reader sees.
const TERMINAL_CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Text for a terminal: control characters (run names, paths and messages come from users and
 * files) become visible \uXXXX escapes, which also leaves JSON output valid and equal.
 */
export function terminalSafe(text: string): string {
  return text.replace(TERMINAL_CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export { isoTime } from '../core/runDetails.ts';

/** A plain text table with columns padded to their widest cell. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** Short, readable numbers for tables: 4 significant digits, NaN/Inf spelled out. */
export function num(x: number | undefined): string {
  if (x === undefined) return '';
  if (!Number.isFinite(x)) return String(x);
  if (Number.isInteger(x) && Math.abs(x) < 1e9) return String(x);
  return Number(x.toPrecision(4)).toString();
}

export function requirePositional(positionals: string[], count: number, command: CliCommand): void {
  if (positionals.length < count) throw new UserError(`missing argument\nusage: ${command.usage}`);
}
