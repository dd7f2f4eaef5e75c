// No `vscode` import: what commands receive is plain data, tested on plain Node. The one decoder
// of run arguments for every command (tree items, the compare panel, programmatic callers).

/**
 * Run ids from a command's arguments, in order, without duplicates. Accepts ids (numbers or digit
 * strings), tree nodes (`{ run: { id } }` or `{ runId }`, whatever their kind), objects with `id`,
 * and lists of any of these. For a tree's context menu VS Code passes `(clickedNode,
 * selectedNodes)`: the selection, when there is one, is what the user meant (it includes the
 * clicked node); when none of it can be read (VS Code hands `undefined` for an item it no longer
 * knows), the clicked node still is.
 */
export function runIdsOfArgs(args: readonly unknown[]): number[] {
  const [first, second] = args;
  if (args.length === 2 && Array.isArray(second) && second.length > 0 && !Array.isArray(first) && typeof first === 'object') {
    const selected = collect([second]);
    return selected.length > 0 ? selected : collect([first]);
  }
  return collect(args);
}

function collect(source: readonly unknown[]): number[] {
  const out: number[] = [];
  const seen = new Set<number>();
  const visit = (value: unknown, depth: number): void => {
    if (depth > 3 || value === null || value === undefined) return;
    if (Array.isArray(value)) return value.forEach((v) => visit(v, depth + 1));
    const id = idOf(value);
    if (id !== undefined && !seen.has(id)) {
      seen.add(id);
      out.push(id);
    }
  };
  source.forEach((v) => visit(v, 0));
  return out;
}

function idOf(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value > 0 ? value : undefined;
  if (typeof value === 'string') return /^\d+$/.test(value.trim()) ? idOf(Number(value.trim())) : undefined;
  if (typeof value !== 'object' || value === null) return undefined;
  const o = value as Record<string, unknown>;
  if (typeof o.run === 'object' && o.run !== null) return idOf((o.run as Record<string, unknown>).id);
  if (o.runId !== undefined) return idOf(o.runId);
  return idOf(o.id);
}
