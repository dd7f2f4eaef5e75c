import type { Store } from '../store/store.ts';

/**
 * A run's code as a text document, for VS Code's diff editor between two runs: the commit, the
 * uncommitted patch captured at launch, and the params. Sections come in a fixed order so a diff
 * lines them up.
 */
export function codeStateDocument(store: Store, runId: number): string {
  const run = store.run(runId);
  if (!run) return `Run ${runId} no longer exists.\n`;
  const code = store.codeState(runId);
  const params = store.params(runId);
  const lines = [`# Run ${run.id}: ${run.name} (experiment ${run.experiment}, ${run.status})`, ''];
  if (!code) {
    lines.push('No code snapshot was recorded for this run.');
  } else {
    lines.push(`commit: ${code.commit ?? '(not a git repository)'}`);
    lines.push(`branch: ${code.branch ?? '(detached or unknown)'}`);
    lines.push(`uncommitted changes: ${code.dirty ? 'yes' : 'no'}`);
  }
  lines.push('', '## Params', '');
  const keys = Object.keys(params).sort();
  if (keys.length === 0) lines.push('(none)');
  for (const k of keys) lines.push(`${k} = ${params[k]}`);
  lines.push('', `## Command`, '', run.command.join(' ') || '(none)');
  lines.push('', '## Uncommitted patch (git diff against the commit)', '');
  if (!code?.patch) lines.push(code?.dirty ? '(the patch was not captured)' : '(none)');
  else {
    lines.push(code.patch.replace(/\n$/, ''));
    if (code.patchTruncated) lines.push('', '(patch truncated at capture)');
  }
  return `${lines.join('\n')}\n`;
}
