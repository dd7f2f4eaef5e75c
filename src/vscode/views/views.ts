import * as vscode from 'vscode';
import type { Container } from '../container.ts';
import { DeploymentMonitor } from '../deploymentMonitor.ts';
import { Disposable } from '../lifecycle.ts';
import { DeploymentLogs, DEPLOYMENT_LOGS_SCHEME } from './deploymentLogs.ts';
import { DeploymentsTree, DEPLOYMENTS_VIEW, type DeploymentsNode } from './deployments.ts';
import type { ExperimentsNode } from './experiments/nodes.ts';
import { EXPERIMENTS_VIEW, ExperimentsTree } from './experiments/tree.ts';
import { MODELS_VIEW, ModelsTree, type ModelsNode } from './models.ts';

/**
 * The sidebar: the Experiments, Models and Deployments trees with their TreeViews, the
 * deployments' traffic monitor and the deployment log documents. Commands act on them; the
 * lineage panel reveals nodes in them.
 */
export class Views extends Disposable {
  readonly experiments: ExperimentsTree;
  readonly experimentsView: vscode.TreeView<ExperimentsNode>;
  readonly models: ModelsTree;
  readonly modelsView: vscode.TreeView<ModelsNode>;
  readonly deployments: DeploymentsTree;
  readonly deploymentsView: vscode.TreeView<DeploymentsNode>;
  /** Request stats and the liveness timer of the Deployments view. */
  readonly deploymentMonitor: DeploymentMonitor;
  /** The read-only documents Show Logs opens. */
  readonly deploymentLogs: DeploymentLogs;

  constructor(container: Container) {
    super();
    this.experiments = this._register(new ExperimentsTree(container, container.context.workspaceState));
    this.experimentsView = this._register(vscode.window.createTreeView(EXPERIMENTS_VIEW, { treeDataProvider: this.experiments.viewProvider, canSelectMany: true, showCollapseAll: true }));
    const describe = () => (this.experimentsView.description = this.experiments.describe() || undefined);
    describe();
    this._register(this.experiments.onDidChangeState(describe));

    this.models = this._register(new ModelsTree(container));
    this.modelsView = this._register(vscode.window.createTreeView(MODELS_VIEW, { treeDataProvider: this.models, showCollapseAll: true }));

    this.deploymentMonitor = this._register(new DeploymentMonitor(container));
    this.deployments = this._register(new DeploymentsTree(container, this.deploymentMonitor));
    this.deploymentsView = this._register(vscode.window.createTreeView(DEPLOYMENTS_VIEW, { treeDataProvider: this.deployments }));
    // Traffic and liveness are looked at often while the view is visible, rarely while it is not, never with nothing live.
    this.deploymentMonitor.attach(this.deploymentsView);

    this.deploymentLogs = this._register(new DeploymentLogs(container));
    this._register(vscode.workspace.registerTextDocumentContentProvider(DEPLOYMENT_LOGS_SCHEME, this.deploymentLogs));
  }

  /** Re-reads every tree now. */
  refresh(): void {
    this.experiments.refresh();
    this.models.refresh();
    this.deployments.refresh();
  }
}
