import * as assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { ModelVersion } from '../../src/core/registry/registry.ts';
import type { ReportedError } from '../../src/vscode/reporter.ts';
import { runboard } from './helpers.ts';

/**
 * A pickle no run wrote, registered from the Explorer. The interactive path asks in a modal, which
 * the host cannot answer from a test; these cover the refusal in Restricted Mode (before any
 * prompt) and the programmatic path, which warns and goes on. The decision itself is unit-tested
 * (test/unit/pickles.test.ts).
 */
describe('pickles no run wrote', () => {
  const workspace = () => vscode.workspace.workspaceFolders![0]!.uri.fsPath;
  const pickle = () => vscode.Uri.file(join(workspace(), 'downloaded.pkl'));

  before(() => writeFileSync(pickle().fsPath, 'bytes that would be unpickled'));

  async function register(name: string): Promise<{ version: ModelVersion | undefined; errors: ReportedError[] }> {
    const api = await runboard();
    const errors: ReportedError[] = [];
    const sub = api.onDidReportError((e) => errors.push(e));
    try {
      const version = await vscode.commands.executeCommand<ModelVersion | undefined>('runboard.registerModel', pickle(), { name, aliases: [] });
      return { version, errors };
    } finally {
      sub.dispose();
    }
  }

  it('registering one is refused in Restricted Mode, naming why; nothing is registered', async () => {
    const api = await runboard();
    api.testing.simulateUntrusted(true);
    try {
      const { version, errors } = await register('unvouched-untrusted');
      assert.equal(version, undefined);
      assert.equal(errors.length, 1, JSON.stringify(errors));
      assert.equal(errors[0]!.trust, true);
      assert.match(errors[0]!.message, /cannot register a pickle that no run here wrote in Restricted Mode/);
      assert.equal((await api.container.registry()).list('unvouched-untrusted').length, 0);
    } finally {
      api.testing.simulateUntrusted(false);
    }
  });

  it('trusted, a programmatic call registers it (with a warning notification, no modal)', async () => {
    const { version, errors } = await register('unvouched-trusted');
    assert.deepEqual(errors, []);
    assert.ok(version);
    assert.equal(version.runId, null);
  });
});
