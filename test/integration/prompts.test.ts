import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { LaunchResult } from '../../src/vscode/commands/shared/launching.ts';
import { runboard, store, waitFor } from './helpers.ts';

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

/** Drives the quick input like a user with the keyboard: optionally moves down, then Enter. */
async function answer(down = 0): Promise<void> {
  // The next prompt opens after the previous answer is handled: give the workbench a moment.
  await sleep(600);
  for (let i = 0; i < down; i++) await vscode.commands.executeCommand('workbench.action.quickOpenSelectNext');
  await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
}

describe('interactive launch', () => {
  it('profile → Edit parameters… → one validated prompt per param (defaults kept) → a run', async () => {
    await runboard();
    const before = (await store()).countRuns();
    const launched = vscode.commands.executeCommand<LaunchResult | undefined>('runboard.launchRun');
    await answer(); // the only profile: train
    await answer(1); // "Edit parameters…"
    for (let i = 0; i < 3; i++) await answer(); // lr, epochs, delay: keep the defaults
    const result = await launched;
    assert.ok(result, 'the interactive launch returned its run');
    assert.equal((await store()).countRuns(), before + 1);
    assert.deepEqual((await store()).params(result.runId), { delay: '0', epochs: '5', lr: '0.1' });
    const ended = await waitFor('the run to finish', async () => {
      const run = (await store()).run(result.runId);
      return run && run.status !== 'running' && run.status !== 'queued' ? run : undefined;
    });
    assert.equal(ended.status, 'finished');
  });
});
