import { parseGate } from '../gates.ts';
import { profileKeyOffset, reportProfiles } from './profiles.ts';

/** One problem of profiles.json, located in its text, for an editor's Problems panel. */
export interface ProfileFinding {
  offset: number;
  length: number;
  message: string;
  severity: 'error' | 'warning';
}

/** How many known metric names a warning lists before "…". */
const LISTED_METRICS = 8;

/**
 * What the validator refuses, at the profile it concerns, plus gates on metrics no run has logged
 * (a warning: the first run may log them). JSON syntax errors are left to the JSON language
 * service, which already places them.
 */
export function lintProfiles(text: string, knownMetrics: readonly string[]): ProfileFinding[] {
  const { profiles, problems } = reportProfiles(text);
  const findings: ProfileFinding[] = [];
  for (const problem of problems) {
    if (problem.profile === undefined) {
      if (!/is not valid JSON/.test(problem.message)) findings.push({ offset: 0, length: 1, message: problem.message, severity: 'error' });
      continue;
    }
    const offset = profileKeyOffset(text, problem.profile) ?? 0;
    findings.push({ offset, length: JSON.stringify(problem.profile).length, message: problem.message, severity: 'error' });
  }
  if (knownMetrics.length === 0) return findings;
  const known = new Set(knownMetrics);
  for (const profile of profiles.values()) {
    const from = profileKeyOffset(text, profile.name) ?? 0;
    for (const gate of profile.gates) {
      const { metric } = parseGate(gate);
      if (known.has(metric)) continue;
      const written = JSON.stringify(gate);
      const at = text.indexOf(written, from);
      const listed = [...known].sort().slice(0, LISTED_METRICS).join(', ');
      findings.push({
        offset: at < 0 ? from : at,
        length: at < 0 ? 1 : written.length,
        message: `profile "${profile.name}": gate "${gate}" is on "${metric}", which no run has logged (logged: ${listed}${known.size > LISTED_METRICS ? ', …' : ''})`,
        severity: 'warning',
      });
    }
  }
  return findings;
}
