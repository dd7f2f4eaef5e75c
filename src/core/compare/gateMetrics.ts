import { parseGate } from '../gates.ts';
import { loadProfiles } from '../launch/profiles.ts';

/**
 * The metrics the gates of these profiles test (`val_accuracy >= 0.94` → `val_accuracy`), in the
 * order written: what decides whether a run is good, so views show them first. A profiles file
 * that does not load gives none here; the profile's own commands report why.
 */
export function gateMetrics(workspace: string, profileNames: Iterable<string | null>): string[] {
  const wanted = new Set([...profileNames].filter((name): name is string => name !== null));
  if (wanted.size === 0 || workspace === '') return [];
  let profiles;
  try {
    profiles = loadProfiles(workspace);
  } catch {
    return [];
  }
  const metrics = new Set<string>();
  for (const name of wanted) for (const gate of profiles.get(name)?.gates ?? []) metrics.add(parseGate(gate).metric);
  return [...metrics];
}
