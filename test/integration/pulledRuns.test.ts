import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { Run } from '../../src/core/store/types.ts';
import type { ReportedError } from '../../src/vscode/reporter.ts';
import { EXPERIMENT, EXTENSION_ID, QuickInputs, runboard, runNode, store, waitFor } from './helpers.ts';

const TEAM_SERVER = 'http://127.0.0.1:5999';

/** A teammate's run as `pull` leaves it: marked with its server and author, still running there. */
async function pulledRun(name: string): Promise<Run> {
  const s = await store();
  const run = s.createRun({ experiment: EXPERIMENT, name, user: 'grace', status: 'running', host: '127.0.0.1:5999' });
  s.sync.markPulled(run.id, TEAM_SERVER, run.mlflowId, '1');
  return s.run(run.id)!;
}

/** The regex a context-menu entry of the Experiments view matches `viewItem` against. */
function menuPattern(command: string): RegExp {
  const manifest = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as { contributes: { menus: Record<string, { command: string; when?: string }[]> } };
  const when = manifest.contributes.menus['view/item/context']!.find((m) => m.command === command && m.when?.includes('runboard.experiments'))!.when!;
  const [, source] = /viewItem =~ \/(.*?)\/(?: |$)/.exec(when)!;
  return new RegExp(source!);
}

describe('pulled runs', () => {
  it('Stop Run refuses a pulled run with one line and leaves it as pulled', async () => {
    const api = await runboard();
    const run = await pulledRun('teammate-live');
    const errors: ReportedError[] = [];
    const sub = api.onDidReportError((e) => errors.push(e));
    try {
      assert.equal(await vscode.commands.executeCommand('runboard.stopRun', run.id, { graceSeconds: 0 }), undefined);
      await waitFor('the refusal to be reported', () => errors.length > 0);
      assert.deepEqual(
        errors.map((e) => [e.command, e.message, e.user]),
        [['runboard.stopRun', `run ${run.id} (teammate-live) was pulled from ${TEAM_SERVER} (author grace): it is read-only here; change it on the team server`, true]],
      );
      assert.equal((await store()).run(run.id)!.status, 'running');
    } finally {
      sub.dispose();
    }
  });

  it("Stop Run's pick of running runs leaves pulled runs out", async () => {
    const s = await store();
    const pulled = await pulledRun('teammate-running');
    // Recorded as running by this workspace, with no process: the pick only lists it.
    const local = s.createRun({ experiment: EXPERIMENT, name: 'local-running', status: 'running' });
    const prompts = new QuickInputs();
    try {
      const stopping = vscode.commands.executeCommand('runboard.stopRun');
      const pick = await prompts.dismiss();
      assert.equal(await stopping, undefined, 'dismissed: nothing stopped');
      const listed = (pick.items ?? []).map((item) => (item as vscode.QuickPickItem & { run?: Run }).run?.id);
      assert.ok(listed.includes(local.id), `the local running run is offered (${listed})`);
      assert.ok(!listed.includes(pulled.id), `the pulled one is not (${listed})`);
    } finally {
      prompts.dispose();
      s.deleteRun(local.id);
    }
    assert.equal(s.run(pulled.id)!.status, 'running', 'the pulled run is left as pulled');
  });

  it('Delete Run is offered on a pulled run, even one running on its server, and forgets the local copy', async () => {
    const run = await pulledRun('teammate-forget');
    const node = await waitFor('the pulled run in the tree', () => runNode(run.id));
    const item = await (await runboard()).trees.experiments.getTreeItem(node);
    assert.match(String(item.contextValue), menuPattern('runboard.deleteRun'));
    assert.doesNotMatch(String(item.contextValue), menuPattern('runboard.stopRun'));
    const deleted = await vscode.commands.executeCommand<number[]>('runboard.deleteRun', node, { confirmed: true });
    assert.deepEqual(deleted, [run.id]);
    assert.equal((await store()).run(run.id), undefined);
    await waitFor('the run to leave the tree', async () => (await runNode(run.id)) === undefined);
  });
});
