import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { MetricNode, ParamNode, ArtifactNode, RunNode } from '../../src/vscode/views/experiments/nodes.ts';
import { children, EXPERIMENT, group, launchTrain, runboard, runNode, store, waitFor } from './helpers.ts';

describe('launching', () => {
  it('a profile launched through the command records a finished run with its metrics in the Experiments tree', async () => {
    const { runId, run } = await launchTrain({ epochs: 4, lr: 0.2 });
    assert.equal(run.status, 'finished', `run ${runId}: ${run.error ?? ''}`);
    assert.equal(run.profile, 'train');

    const node = await runNode(runId);
    assert.ok(node, 'the run shows under its experiment');
    assert.equal(node.run.status, 'finished');
    assert.equal(node.keyMetric?.key, 'acc');

    const metrics = (await children(await group(node, 'metrics'))) as MetricNode[];
    const loss = metrics.find((m) => m.key === 'loss');
    assert.ok(loss, `metrics: ${metrics.map((m) => m.key).join(', ')}`);
    assert.equal(loss.summary.count, 4);
    assert.equal(loss.summary.lastStep, 3);
    assert.ok(Math.abs(loss.summary.last - Math.exp(-0.8)) < 1e-5);

    const params = (await children(await group(node, 'params'))) as ParamNode[];
    assert.deepEqual(Object.fromEntries(params.map((p) => [p.key, p.value])), { delay: '0', epochs: '4', lr: '0.2' });

    const artifacts = (await children(await group(node, 'artifacts'))) as ArtifactNode[];
    assert.ok(artifacts.some((a) => a.artifact.path === 'model.pkl' && a.artifactKind === 'model'));

    const item = (await runboard()).trees.experiments.getTreeItem(node);
    assert.equal(item.contextValue, 'run.finished');
    assert.match(String(item.description), /acc 0\.5507/);
    assert.ok(vscode.window.terminals.some((t) => t.name === `${run.name} #${run.id}`), 'a terminal named after the run');
  });

  it('a Python file runs without a profile, named after the file', async () => {
    const result = await vscode.commands.executeCommand<{ runId: number; run: { status: string; name: string; command: string[]; experiment: string } }>('runboard.launchRun', {
      file: 'train.py',
      experiment: 'scripts',
      wait: true,
    });
    assert.ok(result);
    assert.equal(result.run.status, 'finished');
    assert.equal(result.run.name, 'train');
    assert.equal(result.run.experiment, 'scripts');
    assert.match(result.run.command.at(-1)!, /train\.py$/);
    const node = await runNode(result.runId, 'scripts');
    assert.ok(node?.keyMetric, 'its metric lines were captured');
  });

  it('run tooltips escape what the run recorded (names, params are never markdown)', async () => {
    const name = '[evil](command:runboard.deleteRun) **bold** $(zap)';
    const result = await vscode.commands.executeCommand<{ runId: number }>('runboard.launchRun', { profile: 'train', params: { epochs: 1 }, name, wait: true });
    assert.ok(result);
    const node = await runNode(result.runId);
    assert.ok(node);
    const tree = (await runboard()).trees.experiments;
    const item = await tree.resolveTreeItem(tree.getTreeItem(node), node);
    const tooltip = item.tooltip as vscode.MarkdownString;
    assert.equal(tooltip.isTrusted, false);
    assert.ok(!tooltip.value.includes('[evil](command:'), tooltip.value);
    assert.ok(tooltip.value.includes('\\[evil\\]'), tooltip.value);
    assert.ok(!tooltip.value.includes('$(zap)'), 'theme icons in user text are escaped');
  });

  it('the Code group shows the commit the run recorded', async () => {
    const { runId } = await launchTrain({ epochs: 1 });
    const code = (await store()).codeState(runId);
    const node = await runNode(runId);
    assert.ok(node);
    const rows = await children(await group(node, 'code'));
    if (!code?.commit) {
      assert.equal(rows.length, code ? 3 : 0); // no git here: nothing more to check
      return;
    }
    const commit = rows.find((r) => r.kind === 'code' && r.label === 'Commit');
    assert.equal(commit?.kind === 'code' ? commit.value : undefined, code.commit.slice(0, 12));
  });

  it('a sweep runs one child per grid point under its parent', async () => {
    const result = await vscode.commands.executeCommand<{ runId: number; childIds: number[]; run: { status: string } }>('runboard.launchSweep', {
      profile: 'train',
      grid: { lr: [0.1, 0.3] },
      params: { epochs: 2 },
      wait: true,
    });
    assert.ok(result);
    assert.equal(result.run.status, 'finished');
    assert.equal(result.childIds.length, 2);
    const parent = await runNode(result.runId);
    assert.ok(parent);
    assert.equal(parent.children, 2);
    const runs = (await children(await group(parent, 'runs'))) as RunNode[];
    assert.deepEqual(runs.map((r) => r.run.id).sort(), [...result.childIds].sort());
    assert.deepEqual(runs.map((r) => r.run.name).sort(), ['lr=0.1', 'lr=0.3'], 'named by the values that vary');
    await vscode.commands.executeCommand('runboard.sortRuns', { by: 'metric', metric: 'acc', descending: true });
    try {
      const item = (await runboard()).trees.experiments.getTreeItem((await runNode(result.runId))!);
      assert.match(String(item.description), /best lr=0\.[13] \(acc [\d.]+\)/, 'the sweep names its best run');
    } finally {
      await vscode.commands.executeCommand('runboard.sortRuns', { by: 'created' });
    }
    assert.ok(runs.every((r) => r.run.status === 'finished'));
    assert.equal(await runNode(result.childIds[0]!), undefined, "the sweep's runs are not listed again beside it");
    const tree = (await runboard()).trees.experiments;
    const experiment = (await tree.getChildren()).find((n) => n.kind === 'experiment' && n.name === EXPERIMENT)!;
    assert.ok(!(await tree.getChildren(experiment)).some((n) => n.kind === 'more'), 'no "Load more" for runs the page cannot show');
    const groups = (await children(parent)) as { kind: string; count: number }[];
    assert.ok(groups.every((g) => g.kind === 'group' && g.count > 0), 'a sweep shows only the groups it has');
  });

  it('filtered by a param only its runs have, a sweep is listed with just the matching runs under it', async () => {
    const result = await vscode.commands.executeCommand<{ runId: number; childIds: number[] }>('runboard.launchSweep', {
      profile: 'train',
      grid: { lr: [0.31, 0.71] },
      params: { epochs: 1 },
      wait: true,
    });
    assert.ok(result);
    await vscode.commands.executeCommand('runboard.filterRuns', { param: 'lr=0.71' });
    try {
      const sweep = await runNode(result.runId);
      assert.ok(sweep, 'the sweep is shown though it has no lr itself');
      const runs = (await children(await group(sweep, 'runs'))) as RunNode[];
      assert.deepEqual(runs.map((r) => r.run.id), [result.childIds[1]]);
    } finally {
      await vscode.commands.executeCommand('runboard.clearFilter');
    }
  });

  it('a new run closes the terminals of runs that have ended: no pile of them', async () => {
    const first = await launchTrain({ epochs: 1 });
    const second = await launchTrain({ epochs: 1 });
    const named = (r: { runId: number; run: { name: string } }) => `${r.run.name} #${r.runId}`;
    await waitFor("the ended run's terminal to close", () => !vscode.window.terminals.some((t) => t.name === named(first)));
    assert.ok(vscode.window.terminals.some((t) => t.name === named(second)), "the new run's terminal is open");
  });

  it('re-run starts the same command again and links it to the original', async () => {
    const original = await launchTrain({ epochs: 2 });
    const again = await vscode.commands.executeCommand<{ runId: number; run: { status: string; command: string[] } }>('runboard.rerun', original.runId, { wait: true });
    assert.ok(again);
    assert.notEqual(again.runId, original.runId);
    assert.equal(again.run.status, 'finished');
    assert.deepEqual(again.run.command, original.run.command);
    const edges = (await store()).upstream('run', again.runId);
    assert.ok(edges.some((e) => e.relation === 'rerun' && e.srcId === original.runId));
  });

  it('filter and sort are applied to the tree and kept in the view state', async () => {
    const api = await runboard();
    await launchTrain({ epochs: 2, lr: 0.05 });
    await vscode.commands.executeCommand('runboard.filterRuns', { param: 'lr=0.05' });
    const experiment = (await api.trees.experiments.getChildren()).find((n) => n.kind === 'experiment')!;
    const filtered = (await children(experiment)) as RunNode[];
    assert.ok(filtered.length >= 1);
    assert.ok(filtered.every((n) => n.kind === 'run'));
    for (const n of filtered) assert.equal((await store()).params(n.run.id).lr, '0.05');
    assert.match(api.trees.experiments.describe(), /lr=0\.05/);

    await vscode.commands.executeCommand('runboard.clearFilter');
    await vscode.commands.executeCommand('runboard.sortRuns', { by: 'metric', metric: 'loss', descending: false });
    const sorted = ((await children(experiment)) as RunNode[]).filter((n) => n.kind === 'run' && n.keyMetric);
    const losses = sorted.map((n) => n.keyMetric!.value);
    assert.deepEqual(losses, [...losses].sort((a, b) => a - b));
    assert.equal(api.trees.experiments.state.sort.by, 'metric');
    await vscode.commands.executeCommand('runboard.sortRuns', { by: 'created' });
  });

  it('one Experiments page of 200 runs, with key metrics and sweep counts, costs at most 5 statements', async () => {
    const api = await runboard();
    const s = await store();
    // Named to sort after the fixture's experiment, and removed after, so other tests see the same tree.
    const experimentName = 'zz-paged';
    const ids = s.transaction(() =>
      Array.from({ length: 210 }, (_, i) => {
        const run = s.createRun({ experiment: experimentName });
        s.logMetrics(run.id, [{ key: 'loss', step: 0, value: i }]);
        if (i % 50 === 0) s.createRun({ experiment: experimentName, parentId: run.id });
        return run.id;
      }),
    );
    try {
      const experiment = await waitFor('the experiment in the tree', async () =>
        (await api.trees.experiments.getChildren()).find((n) => n.kind === 'experiment' && n.name === experimentName),
      );
      const before = s.statementsExecuted;
      const page = await api.trees.experiments.getChildren(experiment);
      const statements = s.statementsExecuted - before;
      const runs = page.filter((n): n is RunNode => n.kind === 'run');
      assert.equal(runs.length, 200);
      assert.ok(page.some((n) => n.kind === 'more'), 'Load more for the rest');
      assert.ok(runs.every((n) => n.keyMetric?.key === 'loss'));
      assert.equal(runs.filter((n) => n.children === 1).length, 4, 'the sweeps among the newest 200 show their run counts');
      assert.ok(statements <= 5, `${statements} statements`);
    } finally {
      s.transaction(() => {
        for (const id of ids) {
          for (const child of s.runs({ parentId: id })) s.deleteRun(child.id);
          s.deleteRun(id);
        }
      });
    }
  });

  it('a finished run\'s artifact registers as a model version shown in the Models view', async () => {
    const { runId } = await launchTrain({ epochs: 2 });
    const version = await vscode.commands.executeCommand<{ name: string; version: number; runId: number }>('runboard.registerModel', {
      runId,
      artifact: 'model.pkl',
      name: 'fixture-model',
    });
    assert.ok(version);
    assert.equal(version.runId, runId);
    const models = await waitFor('the model in the Models view', async () => {
      const nodes = await (await runboard()).trees.models.getChildren();
      return nodes.length ? nodes : undefined;
    });
    assert.ok(models.some((n) => n.kind === 'model' && n.model.name === 'fixture-model'));
  });

  it('delete removes an ended run from the tree and its folder from .runboard/runs', async () => {
    const { runId, run } = await launchTrain({ epochs: 1 });
    assert.ok(run.runDir && existsSync(join(run.runDir, 'model.pkl')), 'the run wrote its folder');
    const deleted = await vscode.commands.executeCommand<number[]>('runboard.deleteRun', runId, { confirmed: true });
    assert.deepEqual(deleted, [runId]);
    assert.equal((await store()).run(runId), undefined);
    assert.equal(await runNode(runId), undefined);
    assert.equal(existsSync(run.runDir), false, 'the run folder is gone');
  });

  it('delete keeps a run folder outside .runboard/runs (it belongs to the user)', async () => {
    const s = await store();
    const folder = mkdtempSync(join(tmpdir(), 'runboard-kept-'));
    try {
      const run = s.createRun({ experiment: EXPERIMENT, runDir: folder });
      s.markEnded(run.id, { status: 'finished' });
      const deleted = await vscode.commands.executeCommand<number[]>('runboard.deleteRun', run.id, { confirmed: true });
      assert.deepEqual(deleted, [run.id]);
      assert.equal(s.run(run.id), undefined);
      assert.ok(existsSync(folder), 'the folder elsewhere is kept');
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
