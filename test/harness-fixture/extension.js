// Minimal extension used only to prove the in-host test harness
// (scripts/vscode-test). Plain JS so it needs no build step.
'use strict';
const vscode = require('vscode');

function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand('fixture.hello', (name = 'world') => `hello ${name} from VS Code ${vscode.version}`),
  );
}

function deactivate() {}

module.exports = { activate, deactivate };
