import * as vscode from 'vscode';
import { fetchArtifact } from '../../core/sync/pull.ts';
import type { Container } from '../container.ts';
import { withRemoteClient } from './remotes.ts';

/**
 * A pulled run's artifact, downloaded from its remote when first opened (with a progress
 * notification); undefined for a run recorded here. Returns the file's path.
 */
export async function fetchPulledArtifact(container: Container, runId: number, path: string): Promise<string | undefined> {
  const store = await container.store();
  const url = store.sync.runRemote(runId);
  if (url === null) return undefined;
  const fetched = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `Fetching ${path} from ${url}` }, () =>
    withRemoteClient(container, { name: url, url }, async (client) => ({ file: await fetchArtifact(store, client, runId, path) })),
  );
  return fetched.file;
}
