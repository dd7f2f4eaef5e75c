import { UserError } from '../errors.ts';
import { parseGate } from '../gates.ts';
import type { MonitorThresholds } from './report.ts';

/** Defaults when neither the deploy settings nor the model's profile say otherwise (README "Monitoring"). */
export const DEFAULT_THRESHOLDS: MonitorThresholds = { psi: 0.2, ksAlpha: 0.01, gates: [] };

/** A `monitor: {psi, ksAlpha, gates}` section, checked; a wrong one is a UserError saying which field and why. */
export function parseMonitorSection(m: unknown): Partial<MonitorThresholds> {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) throw new UserError('"monitor" must be an object like {"psi": 0.2, "ksAlpha": 0.01, "gates": ["accuracy>=0.9"]}');
  const out: Partial<MonitorThresholds> = {};
  const { psi, ksAlpha, gates, ...rest } = m as Record<string, unknown>;
  const unknown = Object.keys(rest);
  if (unknown.length) throw new UserError(`monitor.${unknown[0]} is unknown (fields: psi, ksAlpha, gates)`);
  if (psi !== undefined) {
    if (typeof psi !== 'number' || !(psi > 0)) throw new UserError('monitor.psi must be a positive number');
    out.psi = psi;
  }
  if (ksAlpha !== undefined) {
    if (typeof ksAlpha !== 'number' || !(ksAlpha > 0 && ksAlpha < 1)) throw new UserError('monitor.ksAlpha must be a number between 0 and 1');
    out.ksAlpha = ksAlpha;
  }
  if (gates !== undefined) {
    if (!Array.isArray(gates) || !gates.every((g) => typeof g === 'string')) throw new UserError('monitor.gates must be a list of conditions like "accuracy>=0.9"');
    gates.forEach((g) => parseGate(g));
    out.gates = gates;
  }
  return out;
}
