import { existsSync } from 'node:fs';
import { UserError } from '../../core/errors.ts';
import { COMMANDS } from '../commandIds.ts';
import { fetchPulledArtifact } from '../sync/pulledArtifacts.ts';
import type { CommandSpec } from './command.ts';
import { reveal } from './shared/reveal.ts';

/** Reveal an artifact file (from the Experiments view). */
export const revealArtifactCommand: CommandSpec = {
  id: COMMANDS.revealArtifact,
  async run(container, _views, arg): Promise<void> {
    const node = arg as { kind?: string; file?: string; runId?: number; artifact?: { path: string } } | undefined;
    let file = node?.kind === 'artifact' ? node.file : undefined;
    // A teammate's (pulled) run keeps its artifacts on the remote until one is opened.
    if ((!file || !existsSync(file)) && node?.kind === 'artifact' && node.runId !== undefined && node.artifact) file = (await fetchPulledArtifact(container, node.runId, node.artifact.path)) ?? file;
    if (!file || !existsSync(file)) throw new UserError('The artifact file is not on this machine');
    await reveal(container.workspace, file);
  },
};
