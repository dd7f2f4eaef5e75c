import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { COMMANDS } from '../../src/vscode/commandIds.ts';
import { EXTENSION_ID, runboard } from './helpers.ts';

describe('commands', () => {
  before(async () => {
    await runboard();
  });

  const contributed = (): string[] => {
    const manifest = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as { contributes: { commands: { command: string }[] } };
    return manifest.contributes.commands.map((c) => c.command);
  };

  it('every command in contributes.commands is registered', async () => {
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed().filter((id) => !registered.has(id));
    assert.deepEqual(missing, []);
  });

  it('the ids table and the manifest list the same commands', () => {
    assert.deepEqual([...contributed()].sort(), Object.values(COMMANDS).sort());
  });

  it('a failing command reports its error instead of throwing', async () => {
    const api = await runboard();
    const reported = new Promise<string>((done) => {
      const sub = api.onDidReportError((e) => {
        sub.dispose();
        done(e.message);
      });
    });
    const result = await vscode.commands.executeCommand('runboard.launchRun', { profile: 'no-such-profile', wait: true });
    assert.equal(result, undefined);
    assert.match(await reported, /No profile "no-such-profile"/);
  });
});
