import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { LaunchResult } from '../../src/vscode/commands/shared/launching.ts';
import { QuickInputs, runboard, store, waitFor } from './helpers.ts';

describe('interactive launch', () => {
  it('profile → Edit parameters… → one validated prompt per param (defaults kept) → a run', async () => {
    await runboard();
    const before = (await store()).countRuns();
    const prompts = new QuickInputs();
    const launched = vscode.commands.executeCommand<LaunchResult | undefined>('runboard.launchRun');
    let result: LaunchResult | undefined;
    try {
      assert.equal((await prompts.answer()).title, 'Launch Training Run'); // the only profile: train
      assert.equal((await prompts.answer(1)).title, 'Launch train'); // "Edit parameters…"
      for (const param of ['lr (1/3)', 'epochs (2/3)', 'delay (3/3)']) assert.equal((await prompts.answer()).title, `Launch train: ${param}`); // keep the defaults
      result = await launched;
    } finally {
      prompts.dispose();
    }
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
