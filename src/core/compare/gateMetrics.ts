import { parseGate } from '../gates.ts';
import { loadProfiles, type Profile } from '../launch/profiles.ts';

/**
 * The metrics the gates of these profiles (default: every profile) test (`val_accuracy >= 0.94`
 * → `val_accuracy`), in the order written: what decides whether a run is good, so views show them first. A profiles file
 * that does not load gives none here; the profile's own commands report why.
 */
export function gateMetrics(workspace: string, profileNames?: Iterable<string | null>): string[] {
  const profiles = profilesOrNone(workspace);
  const wanted = profileNames ? [...new Set(profileNames)].filter((name): name is string => name !== null) : [...profiles.keys()];
  const metrics = new Set<string>();
  for (const name of wanted) for (const gate of profiles.get(name)?.gates ?? []) metrics.add(parseGate(gate).metric);
  return [...metrics];
}

function profilesOrNone(workspace: string): Map<string, Profile> {
  if (workspace === '') return new Map();
  try {
    return loadProfiles(workspace);
  } catch {
    return new Map();
  }
}
