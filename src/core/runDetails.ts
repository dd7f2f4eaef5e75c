import { own } from './own.ts';
import type { Store } from './store/store.ts';
import type { Run } from './store/types.ts';

/** ISO 8601, or null for no time and for one no Date can hold (one bad record must not break a listing). */
export const isoTime = (ms: number | null): string | null => (ms === null || !(Math.abs(ms) <= 8.64e15) ? null : new Date(ms).toISOString());

/** Everything known about one run, in the shape `runboard show --json` promises. */
export function runDetails(store: Store, run: Run) {
  const code = store.codeState(run.id);
  return {
    id: run.id,
    name: run.name,
    experiment: run.experiment,
    status: run.status,
    exitCode: run.exitCode,
    signal: run.signal,
    error: run.error,
    startedAt: isoTime(run.startedAt),
    endedAt: isoTime(run.endedAt),
    command: run.command,
    cwd: run.cwd,
    host: run.host,
    profile: run.profile,
    runDir: run.runDir,
    // A sweep's child points at the sweep; a re-run at the run it repeats (a lineage edge).
    parent: run.parentId ?? store.upstream('run', run.id).find((e) => e.relation === 'rerun' && e.dstId === run.id)?.srcId ?? null,
    params: store.params(run.id),
    tags: store.tags(run.id),
    metrics: Object.fromEntries(
      Object.entries(store.summaries(run.id)).map(([key, s]) => [
        key,
        { last: s.last, min: s.min, max: s.max, count: s.count, lastStep: s.lastStep, nonfinite: s.nonfinite, replaced: s.replaced },
      ]),
    ),
    artifacts: store.artifacts(run.id).map(({ path, size, sha256, kind }) => ({ path, size, sha256, kind })),
    inputs: store.inputs(run.id).map(({ path, fingerprint, size }) => ({ path, fingerprint, size })),
    git: code ? { commit: code.commit, branch: code.branch, dirty: code.dirty } : null,
    malformedLines: run.malformedLines,
  };
}

export type RunDetails = ReturnType<typeof runDetails>;

/** Params that differ between runs (a param missing from a run counts as different). */
export function differingParams(paramSets: Record<string, string>[]): string[] {
  const keys = new Set(paramSets.flatMap((p) => Object.keys(p)));
  return [...keys].filter((k) => new Set(paramSets.map((p) => own(p, k))).size > 1).sort();
}
