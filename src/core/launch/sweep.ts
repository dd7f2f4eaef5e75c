import { randomInt } from 'node:crypto';
import { UserError } from '../errors.ts';
import type { Store } from '../store/store.ts';
import type { Run } from '../store/types.ts';
import { claimRun, endRun, LAUNCHER_TAG, requestStop, SWEEP_TAG } from './lifecycle.ts';
import { getProfile, parseParamValue, type ParamValue, type Profile, type RandomDomain } from './profiles.ts';
import { DEFAULT_GRACE_MS, launch, profileLaunchSpec, queueRun, type LaunchSpec, type ProfileLaunch, type RunHandle } from './runner.ts';
import { pythonEnvironment } from './snapshot.ts';

export type Point = Record<string, ParamValue>;

export interface SweepRequest {
  /** Values per param; given, it replaces the profile's `sweep` block. Text values are read as the param's type. */
  grid?: Record<string, ParamValue[]>;
  /** Random search: this many points (overrides the profile's `random.count`). */
  random?: number;
  /** Seed of the random search, so a sweep can be replayed; default a fresh one, recorded on the parent. */
  seed?: number;
  /** Runs at once; default the profile's `sweep.parallel`, else 1. */
  parallel?: number;
}

export interface SweepPlan {
  points: Point[];
  /** The grid swept, values typed; null when every param is sampled. */
  grid: Record<string, ParamValue[]> | null;
  parallel: number;
  /** Null when nothing was sampled. */
  seed: number | null;
}

/**
 * The points of a sweep:
 * - a grid alone gives its cartesian product;
 * - `random` over a grid alone draws that many distinct points of the product;
 * - sampled params (`random.params` of the profile: ranges or value lists) give `count` samples
 *   for every point of the grid, if there is one.
 */
export function planSweep(profile: Profile, request: SweepRequest = {}): SweepPlan {
  const config = profile.sweep;
  const grid = request.grid ? typedGrid(profile, request.grid) : config?.grid;
  const sampled = request.grid ? undefined : config?.random?.params;
  const count = request.random ?? (request.grid ? undefined : config?.random?.count);
  if (count !== undefined && (!Number.isSafeInteger(count) || count < 1)) throw new UserError(`--random takes a positive number of runs, not ${count}`);
  const parallel = request.parallel ?? config?.parallel ?? 1;
  if (!Number.isSafeInteger(parallel) || parallel < 1) throw new UserError(`--parallel takes a positive number, not ${parallel}`);
  if (!grid && !sampled) {
    throw new UserError(`Nothing to sweep: give --grid NAME=V1,V2… or add a "sweep" block to profile "${profile.name}"`);
  }
  const random = count !== undefined;
  const seed = random ? (request.seed ?? randomInt(0, 2 ** 31 - 1)) : null;
  const next = seededRandom(seed ?? 0);
  let points: Point[];
  if (sampled) {
    points = gridPoints(grid ?? {}).flatMap((fixed) => Array.from({ length: count ?? 1 }, () => ({ ...fixed, ...sample(profile, sampled, next) })));
  } else if (random) {
    points = drawDistinct(gridPoints(grid!), count!, next);
  } else {
    points = gridPoints(grid!);
  }
  return { points, grid: grid ?? null, parallel, seed };
}

function typedGrid(profile: Profile, grid: Record<string, ParamValue[]>): Record<string, ParamValue[]> {
  return Object.fromEntries(
    Object.entries(grid).map(([name, values]) => {
      if (values.length === 0) throw new UserError(`--grid ${name}= needs at least one value`);
      return [name, values.map((v) => parseParamValue(profile, name, v, `--grid ${name}=${values.join(',')}`))];
    }),
  );
}

/**
 * A sweep's runs named by the values that vary between its points (`lr=0.03 seed=1`), so the
 * tree and the compare panel say what each run tried instead of run-7…run-12. Undefined (the
 * default name) when nothing varies. Sampled numbers are cut to four significant digits.
 */
export function sweepRunNames(points: readonly Point[]): (string | undefined)[] {
  const keys = [...new Set(points.flatMap((p) => Object.keys(p)))].filter((k) => new Set(points.map((p) => String(p[k]))).size > 1);
  const show = (v: ParamValue) => (typeof v === 'number' && !Number.isInteger(v) ? String(+v.toPrecision(4)) : String(v));
  return points.map((p) => (keys.length ? keys.filter((k) => Object.hasOwn(p, k)).map((k) => `${k}=${show(p[k]!)}`).join(' ') : undefined));
}

/** Every combination, the first param varying slowest. */
export function gridPoints(grid: Record<string, readonly ParamValue[]>): Point[] {
  return Object.entries(grid).reduce<Point[]>((points, [name, values]) => points.flatMap((p) => values.map((v) => ({ ...p, [name]: v }))), [{}]);
}

function drawDistinct(points: Point[], count: number, next: () => number): Point[] {
  const pool = [...points];
  // A partial Fisher–Yates shuffle: `count` distinct points, uniformly.
  for (let i = 0; i < Math.min(count, pool.length); i++) {
    const j = i + Math.floor(next() * (pool.length - i));
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, count);
}

function sample(profile: Profile, domains: Record<string, RandomDomain>, next: () => number): Point {
  const point: Point = {};
  for (const [name, domain] of Object.entries(domains)) {
    if (Array.isArray(domain)) {
      point[name] = domain[Math.floor(next() * domain.length)]!;
      continue;
    }
    const isInt = profile.params.find((p) => p.name === name)?.type === 'int';
    const { min, max, log } = domain;
    const u = next();
    let value: number;
    if (isInt) {
      value = log ? Math.round(Math.exp(Math.log(min) + u * (Math.log(max) - Math.log(min)))) : min + Math.floor(u * (max - min + 1));
    } else {
      const raw = log ? Math.exp(Math.log(min) + u * (Math.log(max) - Math.log(min))) : min + u * (max - min);
      // Six significant digits: readable params, and no sweep needs more resolution than that.
      value = Number(raw.toPrecision(6));
    }
    point[name] = Math.min(max, Math.max(min, value));
  }
  return point;
}

/** mulberry32: small, fast and good enough to spread a sweep's points; the same seed gives the same sweep. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type SweepOptions = Omit<ProfileLaunch, 'parentId'> & SweepRequest;

export interface SweepOutput {
  /** Once every child is queued, before any starts. */
  planned?(parent: Run, children: Run[], plan: SweepPlan): void;
  started?(run: Run): void;
  ended?(run: Run): void;
  warning?(text: string): void;
}

export interface SweepHandle {
  readonly parent: Run;
  /** In launch order; each starts queued. */
  readonly children: Run[];
  /** Settles with the parent's final record once every child has ended. */
  readonly done: Promise<Run>;
  /** Queued children never start; running ones get SIGTERM, SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/**
 * Starts a sweep: a parent run (no process of its own) and one queued child per point, at most
 * `parallel` running at once, the next starting as a slot frees.
 *
 * The parent ends `finished` when no child failed or crashed, `failed` (naming them) when some
 * did, and `killed` when the sweep itself was stopped. A child stopped on its own does not fail
 * the sweep: cutting a hopeless trial short is part of sweeping.
 */
export function startSweep(store: Store, options: SweepOptions, output: SweepOutput = {}): SweepHandle {
  const profile = typeof options.profile === 'string' ? getProfile(options.workspace, options.profile) : options.profile;
  const fixed = options.params ?? {};
  const clash = Object.keys(options.grid ?? {}).find((name) => name in fixed);
  if (clash) throw new UserError(`${clash} is given both as --param and as --grid`);
  const plan = planSweep(profile, options);
  // Every point is checked before anything is recorded.
  const specs: LaunchSpec[] = plan.points.map((point) => profileLaunchSpec({ ...options, profile, params: { ...fixed, ...point } }));

  const parent = store.createRun({
    experiment: options.experiment ?? profile.experiment,
    name: options.name,
    status: 'queued',
    cwd: options.workspace,
    profile: profile.name,
    params: fixed,
  });
  const sampled = options.grid ? null : (profile.sweep?.random?.params ?? null);
  const description = { points: plan.points.length, parallel: plan.parallel, seed: plan.seed, grid: plan.grid, random: sampled };
  store.setTags(parent.id, { [LAUNCHER_TAG]: process.pid, [SWEEP_TAG]: JSON.stringify(description) });
  claimRun(store, parent.id);
  const names = sweepRunNames(plan.points);
  const children = specs.map((spec, i) => {
    const varying = names[i];
    const name = options.name ? (varying ? `${options.name} ${varying}` : `${options.name}-${i + 1}`) : varying;
    const child = queueRun(store, { ...spec, parentId: parent.id, name });
    specs[i] = { ...spec, parentId: parent.id, runId: child.id };
    return child;
  });

  output.planned?.(store.run(parent.id)!, children, plan);

  const interpreter = specs[0]?.interpreter;
  const pythonProbe = interpreter ? pythonEnvironment(interpreter) : undefined;
  const handles = new Map<number, RunHandle>();
  let stopping = false;
  let stopGraceMs = DEFAULT_GRACE_MS;
  const queue = [...specs];

  const stopRequested = () => stopping || store.run(parent.id)?.signal != null;
  const slot = async () => {
    for (let spec = queue.shift(); spec && !stopRequested(); spec = queue.shift()) {
      const id = spec.runId!;
      // Stopped on its own while it waited (runboard stop CHILD).
      if (store.run(id)?.status !== 'queued') continue;
      let handle: RunHandle;
      try {
        handle = launch(store, { ...spec, pythonProbe }, { warning: (text) => output.warning?.(`run ${id}: ${text}`) });
      } catch (err) {
        endRun(store, id, { status: 'failed', error: (err as Error).message });
        output.ended?.(store.run(id)!);
        continue;
      }
      handles.set(id, handle);
      output.started?.(handle.run);
      // A stop that came in while this one was being launched.
      if (stopping) void handle.stop(stopGraceMs);
      const ended = await handle.done;
      handles.delete(id);
      output.ended?.(ended);
    }
  };

  const done = (async (): Promise<Run> => {
    await Promise.all(Array.from({ length: Math.min(plan.parallel, specs.length) }, slot));
    if (stopRequested()) {
      for (const child of store.runs({ parentId: parent.id, status: 'queued' })) {
        endRun(store, child.id, { status: 'killed', error: 'The sweep was stopped before this run started' }, true);
      }
      endRun(store, parent.id, { status: 'killed', signal: 'SIGTERM' });
    } else {
      const bad = store.runs({ parentId: parent.id }).filter((c) => c.status === 'failed' || c.status === 'crashed');
      endRun(
        store,
        parent.id,
        bad.length
          ? { status: 'failed', error: `${bad.length} of ${specs.length} runs failed: ${bad.map((c) => c.id).reverse().join(', ')}` }
          : { status: 'finished' },
      );
    }
    return store.run(parent.id)!;
  })();

  return {
    parent: store.run(parent.id)!,
    children,
    done,
    async stop(graceMs = DEFAULT_GRACE_MS) {
      if (!stopping) {
        stopping = true;
        stopGraceMs = graceMs;
        requestStop(store, parent.id, 'SIGTERM');
        for (const child of store.runs({ parentId: parent.id, status: 'queued' })) {
          endRun(store, child.id, { status: 'killed', error: 'The sweep was stopped before this run started' }, true);
        }
        await Promise.all([...handles.values()].map((h) => h.stop(graceMs)));
      }
      await done;
    },
  };
}
