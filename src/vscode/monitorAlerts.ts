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
 * Remembers, per deployment, which thresholds were crossed at the last look, so a notification
 * comes once per crossing: not at every refresh while a feature stays drifted, and again only
 * after it came back under its threshold and crossed it anew.
 */
export class CrossingDetector {
  private readonly crossed = new Map<number, Set<string>>();

  /** The crossing to notify for this report, or undefined when nothing newly crossed. */
  observe(report: MonitorReport): Crossing | undefined {
    const alert = alertOf(report);
    const before = this.crossed.get(report.deployment) ?? new Set<string>();
    const now = keysOf(alert);
    this.crossed.set(report.deployment, now);
    if (!alert) return undefined;
    const fresh = (key: string) => !before.has(key);
    const crossed: MonitorAlert = {
      features: alert.features.filter((f) => fresh(`feature:${f}`)),
      prediction: alert.prediction && fresh('prediction'),
      gates: alert.gates.filter((g) => fresh(`gate:${g.condition}`)),
    };
    if (!crossed.features.length && !crossed.prediction && !crossed.gates.length) return undefined;
    return { deployment: report.deployment, alert, crossed };
  }

  /** A deployment that stopped: a new one with its id starts afresh. */
  forget(deployment: number): void {
    this.crossed.delete(deployment);
  }
}
