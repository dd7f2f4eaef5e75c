import { UserError } from './errors.ts';
import { own } from './own.ts';
import type { MetricSummary } from './store/types.ts';

type Op = '>=' | '<=' | '==' | '!=' | '>' | '<';
type Aggregate = 'last' | 'min' | 'max';

export interface Gate {
  text: string;
  metric: string;
  aggregate: Aggregate;
  op: Op;
  threshold: number;
}

export interface GateResult {
  gate: Gate;
  ok: boolean;
  actual: number | undefined;
  reason: string;
}

const GATE = /^\s*(?:(last|min|max)\(\s*([^()]+?)\s*\)|([^<>=!]+?))\s*(>=|<=|==|!=|>|<)\s*(\S+)\s*$/;

/** Parses `accuracy>=0.9`, `min(loss)<=0.3`, `max(val/acc) > 0.8`. The bare form reads the last value. */
export function parseGate(text: string): Gate {
  const m = GATE.exec(text);
  const threshold = m ? Number(m[5]) : NaN;
  if (!m || Number.isNaN(threshold)) {
    throw new UserError(`Cannot read the condition "${text}": write it like accuracy>=0.9 or min(loss)<=0.3`);
  }
  return {
    text: text.trim(),
    aggregate: (m[1] as Aggregate | undefined) ?? 'last',
    metric: (m[2] ?? m[3])!.trim(),
    op: m[4] as Op,
    threshold,
  };
}

function holds(actual: number, op: Op, threshold: number): boolean {
  switch (op) {
    case '>=': return actual >= threshold;
    case '<=': return actual <= threshold;
    case '>': return actual > threshold;
    case '<': return actual < threshold;
    case '==': return actual === threshold;
    case '!=': return actual !== threshold;
    default: {
      const never: never = op;
      throw new Error(`unknown operator ${never}`);
    }
  }
}

export function evaluateGate(gate: Gate, summaries: Record<string, MetricSummary>): GateResult {
  const summary = own(summaries, gate.metric);
  if (!summary) {
    const known = Object.keys(summaries);
    return {
      gate,
      ok: false,
      actual: undefined,
      reason: `${gate.text}: the run has no metric "${gate.metric}"${known.length ? ` (it has: ${known.join(', ')})` : ''}`,
    };
  }
  const actual = summary[gate.aggregate];
  const label = gate.aggregate === 'last' ? gate.metric : `${gate.aggregate}(${gate.metric})`;
  const unusable = nonFiniteReason(gate, summary, label);
  if (unusable !== undefined) return { gate, ok: false, actual, reason: `${gate.text}: ${unusable}, which fails any condition` };
  const ok = holds(actual, gate.op, gate.threshold);
  return { gate, ok, actual, reason: `${gate.text}: ${label} is ${actual}${ok ? '' : `, which fails ${gate.op} ${gate.threshold}`}` };
}

/**
 * Why a value cannot pass a gate: NaN or ±Inf never do. A min() or max() fails as soon as one
 * point of the series is non-finite, though the summary's min/max skip such points: a NaN loss
 * means training diverged at that step, and a gate that looks past it would pass a broken run.
 */
function nonFiniteReason(gate: Gate, summary: MetricSummary, label: string): string | undefined {
  if (gate.aggregate !== 'last' && summary.nonfinite > 0) {
    return `${label} is not taken: ${summary.nonfinite} of ${summary.count} points of ${gate.metric} are NaN or ±Infinity`;
  }
  const actual = summary[gate.aggregate];
  return Number.isFinite(actual) ? undefined : `${label} is ${actual}`;
}

export const evaluateGates = (gates: readonly string[], summaries: Record<string, MetricSummary>): GateResult[] =>
  gates.map((text) => evaluateGate(parseGate(text), summaries));
