// No `vscode` import: when a deployment's monitoring report deserves a badge or a notification is
// decided here, on plain Node, so the rules are unit-tested without an editor.
import type { MonitorReport } from '../core/monitor/report.ts';

/** What is wrong with a deployment now, by the thresholds its report was judged by. */
export interface MonitorAlert {
  /** Features drifted in the current window, in reference order. */
  features: string[];
  prediction: boolean;
  /** Live-metric gates that failed on a value (a gate with no value yet has not failed). */
  gates: { condition: string; actual: number }[];
}

/** The alert of a report; undefined when nothing is wrong (or nothing can be said yet). */
export function alertOf(report: MonitorReport): MonitorAlert | undefined {
  const features = (report.drift?.features ?? []).filter((f) => f.drifted).map((f) => f.name);
  const prediction = report.drift?.prediction?.drifted ?? false;
  const gates = report.gates.results.filter((g) => !g.ok && g.actual !== null && g.condition !== 'drift').map((g) => ({ condition: g.condition, actual: g.actual! }));
  return features.length || prediction || gates.length ? { features, prediction, gates } : undefined;
}

/** One line naming what crossed, e.g. "drift in age, income; accuracy>=0.9 failed (0.81)". */
export function describeAlert(alert: MonitorAlert, maxFeatures = 5): string {
  const parts: string[] = [];
  const shown = alert.features.slice(0, maxFeatures);
  const more = alert.features.length - shown.length;
  if (shown.length) parts.push(`drift in ${shown.join(', ')}${more > 0 ? ` and ${more} more` : ''}`);
  if (alert.prediction) parts.push('prediction drift');
  for (const g of alert.gates) parts.push(`${g.condition} failed (${+g.actual.toFixed(4)})`);
  return parts.join('; ');
}

/** The thresholds an alert has crossed, one key each: `feature:NAME`, `prediction`, `gate:CONDITION`. */
function keysOf(alert: MonitorAlert | undefined): Set<string> {
  if (!alert) return new Set();
  return new Set([...alert.features.map((f) => `feature:${f}`), ...(alert.prediction ? ['prediction'] : []), ...alert.gates.map((g) => `gate:${g.condition}`)]);
}

/** What to notify about a deployment: the alert, and what of it is new since the last look. */
export interface Crossing {
  deployment: number;
  alert: MonitorAlert;
  /** The alert cut to what newly crossed: a feature still drifted from before is not said again. */
  crossed: MonitorAlert;
}

/**
 * Where the detector keeps what it last said, so a restart does not say it again: VS Code's
 * workspaceState fits (a plain object in tests).
 */
export interface AlertMemory {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): PromiseLike<void>;
}

/** The memory's key: deployment id → what was crossed at the last look. */
export const ALERT_MEMORY_KEY = 'runboard.monitor.crossed';

interface Remembered {
  /** The deployment's creation time: an id reused by another database is not the same deployment. */
  createdAt: number;
  crossed: string[];
  /** "Don't Show Again": its crossings are no longer notified (the badge stays). */
  muted: boolean;
}

/** A deployment as the detector knows it. */
export interface WatchedDeployment {
  id: number;
  createdAt: number;
}

/**
 * Remembers, per deployment, which thresholds were crossed at the last look, so a notification
 * comes once per crossing: not at every refresh while a feature stays drifted, not again after a
 * restart, and again only after it came back under its threshold and crossed it anew.
 */
export class CrossingDetector {
  private readonly crossed: Map<number, Remembered>;
  private readonly memory: AlertMemory | undefined;

  constructor(memory?: AlertMemory) {
    this.memory = memory;
    this.crossed = new Map(Object.entries(memory?.get<Record<string, unknown>>(ALERT_MEMORY_KEY) ?? {}).flatMap(([id, value]) => (/^\d+$/.test(id) && isRemembered(value) ? [[Number(id), value]] : [])));
  }

  /** The crossing to notify for this report of the deployment, or undefined when nothing newly crossed (or it is muted). */
  observe(deployment: WatchedDeployment, report: MonitorReport): Crossing | undefined {
    const alert = alertOf(report);
    const remembered = this.crossed.get(deployment.id);
    const before = remembered?.createdAt === deployment.createdAt ? remembered : undefined;
    const now = keysOf(alert);
    const muted = before?.muted ?? false;
    if (!before || !sameKeys(before.crossed, now)) this.remember(deployment.id, { createdAt: deployment.createdAt, crossed: [...now], muted });
    if (!alert || muted) return undefined;
    const fresh = (key: string) => !before?.crossed.includes(key);
    const crossed: MonitorAlert = {
      features: alert.features.filter((f) => fresh(`feature:${f}`)),
      prediction: alert.prediction && fresh('prediction'),
      gates: alert.gates.filter((g) => fresh(`gate:${g.condition}`)),
    };
    if (!crossed.features.length && !crossed.prediction && !crossed.gates.length) return undefined;
    return { deployment: deployment.id, alert, crossed };
  }

  /** "Don't Show Again" for a deployment already observed: its later crossings are not notified. */
  mute(id: number): void {
    const remembered = this.crossed.get(id);
    if (remembered && !remembered.muted) this.remember(id, { ...remembered, muted: true });
  }

  /** A deployment that stopped: a new one with its id starts afresh. */
  forget(id: number): void {
    if (this.crossed.delete(id)) this.save();
  }

  /** Forgets every deployment but these (the live ones): those stopped while the window was closed. */
  retain(live: readonly WatchedDeployment[]): void {
    const kept = new Map(live.map((d) => [d.id, d.createdAt]));
    let changed = false;
    for (const [id, remembered] of this.crossed) {
      if (kept.get(id) === remembered.createdAt) continue;
      this.crossed.delete(id);
      changed = true;
    }
    if (changed) this.save();
  }

  private remember(id: number, value: Remembered): void {
    this.crossed.set(id, value);
    this.save();
  }

  private save(): void {
    void this.memory?.update(ALERT_MEMORY_KEY, Object.fromEntries(this.crossed));
  }
}

function sameKeys(before: readonly string[], now: ReadonlySet<string>): boolean {
  return before.length === now.size && before.every((key) => now.has(key));
}

function isRemembered(value: unknown): value is Remembered {
  const v = value as Partial<Remembered> | null;
  return typeof v === 'object' && v !== null && typeof v.createdAt === 'number' && Array.isArray(v.crossed) && v.crossed.every((k) => typeof k === 'string') && typeof v.muted === 'boolean';
}
