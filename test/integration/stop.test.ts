import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { Run } from '../../src/core/store/types.ts';
import type { ReportedError } from '../../src/vscode/reporter.ts';
import { EXTENSION_ID, launchTrain, runboard, runNode, store, waitFor } from './helpers.ts';

/** Long enough to be stopped; each epoch prints a metric line. */
const SLOW = { epochs: 10_000, delay: 0.05 };

async function whenRunning(runId: number): Promise<Run> {
  const s = await store();
  return waitFor(`run ${runId} to be running with a pid`, () => {
    const run = s.run(runId);
    return run && run.status === 'running' && run.pid !== null ? run : undefined;
  });
}

describe('stopping', () => {
  it('stopRun with a run id stops a run launched here and records it killed', async () => {
    const api = await runboard();
    const { runId } = await launchTrain(SLOW, false);
    await whenRunning(runId);
    assert.ok(api.runs.get(runId), 'tracked as launched by this window');
    await waitFor('the status bar to count the run', () => api.statusBar.count >= 1);

    const stopped = await vscode.commands.executeCommand<Run[]>('runboard.stopRun', runId, { graceSeconds: 5 });
    assert.ok(stopped);
    assert.equal(stopped[0]!.status, 'killed');
    assert.equal((await store()).run(runId)!.status, 'killed');
    assert.equal((await runNode(runId))?.run.status, 'killed');
    await waitFor('the run to leave the in-process list', () => api.runs.get(runId) === undefined);
  });

  it('stopRun with a tree node stops that run', async () => {
    const { runId } = await launchTrain(SLOW, false);
    await whenRunning(runId);
    const node = await waitFor('the run in the tree', () => runNode(runId));
    const stopped = await vscode.commands.executeCommand<Run[]>('runboard.stopRun', node, [node]);
    assert.equal(stopped?.[0]?.status, 'killed');
  });

  it('Ctrl-C in the run\'s terminal stops it', async () => {
    const { runId, run } = await launchTrain(SLOW, false);
    await whenRunning(runId);
    const terminal = await waitFor('the run\'s terminal', () => vscode.window.terminals.find((t) => t.name === `${run.name} #${run.id}`));
    // For a pseudoterminal, sendText arrives in handleInput, as typed keys do.
    terminal.sendText('\x03', false);
    const s = await store();
    const ended = await waitFor('the run to end', () => {
      const current = s.run(runId);
      return current && current.status !== 'running' && current.status !== 'queued' ? current : undefined;
    });
    assert.equal(ended.status, 'killed');
  });

  it('a run launched by the CLI shows up through the database watcher and stops from the extension', async () => {
    const api = await runboard();
    const s = await store();
    const before = s.runs({ limit: 1 })[0]?.id ?? 0;
    // Writes by another process fire no in-process store event: only the file watcher sees them.
    let refreshes = 0;
    const sub = api.trees.experiments.onDidChangeTreeData(() => refreshes++);
    const cli = join(vscode.extensions.getExtension(EXTENSION_ID)!.extensionPath, 'dist', 'cli.cjs');
    const child = spawn(process.execPath, [cli, 'run', '--profile', 'train', '--param', 'epochs=10000', '--param', 'delay=0.05'], {
      cwd: api.container.workspace,
      stdio: 'ignore',
      env: { ...process.env, ELECTRON_RUN_AS_NODE: '1' },
    });
    const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
    try {
      const run = await waitFor('the CLI run to start', () => s.runs({ limit: 1 }).find((r) => r.id > before && r.status === 'running' && r.pid !== null));
      refreshes = 0;
      await waitFor('a refresh caused by the CLI writing metrics', () => refreshes > 0, 10_000);
      assert.equal(api.runs.get(run.id), undefined, 'not launched by this window');
      const stopped = await vscode.commands.executeCommand<Run[]>('runboard.stopRun', run.id, { graceSeconds: 5 });
      assert.equal(stopped?.[0]?.status, 'killed');
      assert.notEqual(await exited, 0);
    } finally {
      sub.dispose();
      child.kill('SIGKILL');
    }
  });

  it('■ on a run logging 1,000 lines/s stops the clicked run, 3 times out of 3, with no "pick a run" list', async function () {
    this.timeout(120_000);
    const api = await runboard();
    const errors: ReportedError[] = [];
    const sub = api.onDidReportError((e) => errors.push(e));
    let picks = 0;
    const close = setInterval(() => {
      // A quick pick opened instead of stopping the clicked run: count it and close it, so the test fails rather than hangs.
      if (!api.runs.ids().length) return;
      void vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    }, 2000);
    try {
      await vscode.commands.executeCommand('runboard.focusView');
      const launched = [];
      for (let i = 0; i < 3; i++) launched.push((await launchTrain({ epochs: 1_000_000, delay: 0.001 }, false)).runId);
      for (const runId of launched) await whenRunning(runId);
      for (const runId of launched) {
        // VS Code knows a tree item only once it has shown it: reveal it, let a few refreshes pass while the runs log.
        const node = await waitFor('the run in the tree', () => runNode(runId));
        await api.trees.experimentsView.reveal(node, { select: false, focus: false, expand: false });
      }
      await new Promise((done) => setTimeout(done, 2000));
      for (const runId of launched) {
        // Exactly what the inline ■ sends: a handle of the tree item, turned back into the tree's element by VS Code.
        const item = { $treeViewId: 'runboard.experiments', $treeItemHandle: `1/run:${runId}` };
        await vscode.commands.executeCommand('runCommands', { commands: [{ command: 'runboard.stopRun', args: [item, [item]] }] });
        const s = await store();
        const ended = await waitFor(`run ${runId} to be stopped`, () => {
          const run = s.run(runId);
          return run && run.status !== 'running' && run.status !== 'queued' ? run : undefined;
        }, 10_000).catch(() => undefined);
        if (!ended) picks++;
        else assert.equal(ended.status, 'killed');
      }
      assert.equal(picks, 0, `${picks} of 3 clicks did not stop the clicked run (the "pick a run" list opened instead)`);

      // Re-run (inline on an ended run) the same way, while another run logs fast.
      const busy = (await launchTrain({ epochs: 1_000_000, delay: 0.001 }, false)).runId;
      await whenRunning(busy);
      const original = launched[0]!;
      // On screen, as an item the user clicks is; then a few refreshes pass while the busy run logs.
      await vscode.commands.executeCommand('runboard.focusView');
      await api.trees.experimentsView.reveal((await runNode(original))!, { select: false, focus: false, expand: false });
      await new Promise((done) => setTimeout(done, 2000));
      const item = { $treeViewId: 'runboard.experiments', $treeItemHandle: `1/run:${original}` };
      await vscode.commands.executeCommand('runCommands', { commands: [{ command: 'runboard.rerun', args: [item, [item]] }] });
      const s = await store();
      const again = await waitFor('the re-run of the clicked run', () => s.runs({ limit: 5 }).find((r) => r.id > busy), 10_000).catch(() => undefined);
      assert.ok(again, `Re-run started a run (instead of opening the "pick a run" list); view visible: ${api.trees.experimentsView.visible}`);
      assert.deepEqual(again.command, s.run(original)!.command);
      assert.deepEqual(errors, []);
    } finally {
      clearInterval(close);
      sub.dispose();
      for (const runId of api.runs.ids()) await vscode.commands.executeCommand('runboard.stopRun', runId, { graceSeconds: 0 });
    }
  });
});
