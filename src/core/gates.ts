import { UserError } from './errors.ts';
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
  const summary = summaries[gate.metric];
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
  const ok = !Number.isNaN(actual) && holds(actual, gate.op, gate.threshold);
  const label = gate.aggregate === 'last' ? gate.metric : `${gate.aggregate}(${gate.metric})`;
  return { gate, ok, actual, reason: `${gate.text}: ${label} is ${actual}${ok ? '' : `, which fails ${gate.op} ${gate.threshold}`}` };
}

export const evaluateGates = (gates: readonly string[], summaries: Record<string, MetricSummary>): GateResult[] =>
  gates.map((text) => evaluateGate(parseGate(text), summaries));
