import { createHash } from 'node:crypto';
import type * as vscode from 'vscode';
import type { Deployment } from '../../../core/deploy/types.ts';

/**
 * Bearer tokens of deployments, in VS Code's SecretStorage (the OS keychain), never in settings,
 * logs or the database (which keeps only a sha256). SecretStorage is shared by every window, and
 * deployment ids are per database, so the key names the database too. A stored token that no
 * longer matches the deployment's hash (an id reused by another database, a redeploy) is dropped.
 */
export class DeploymentTokens {
  private readonly secrets: vscode.SecretStorage;
  private readonly dbPath: string;

  constructor(secrets: vscode.SecretStorage, dbPath: string) {
    this.secrets = secrets;
    this.dbPath = dbPath;
  }

  private key(id: number): string {
    return `runboard.deploymentToken:${this.dbPath}:${id}`;
  }

  async get(d: Deployment): Promise<string | undefined> {
    const token = await this.secrets.get(this.key(d.id));
    if (token === undefined) return undefined;
    if (!tokenMatches(d, token)) {
      await this.secrets.delete(this.key(d.id));
      return undefined;
    }
    return token;
  }

  async set(d: Deployment, token: string): Promise<void> {
    await this.secrets.store(this.key(d.id), token);
  }

  async delete(id: number): Promise<void> {
    await this.secrets.delete(this.key(id));
  }
}

/** Whether a token is the deployment's (true when the target recorded no hash to check against). */
export function tokenMatches(d: Deployment, token: string): boolean {
  const expected = d.config.tokenSha256;
  return typeof expected !== 'string' || createHash('sha256').update(token).digest('hex') === expected;
}

export function deploymentTokens(container: { context: vscode.ExtensionContext; dbPath: string }): DeploymentTokens {
  return new DeploymentTokens(container.context.secrets, container.dbPath);
}
