'use strict';
const assert = require('node:assert/strict');
const vscode = require('vscode');

describe('harness fixture', () => {
  it('runs inside a real extension host', () => {
    assert.match(vscode.version, /^\d+\.\d+\.\d+/);
    assert.ok(vscode.extensions.getExtension('runboard.runboard-harness-fixture'), 'fixture extension is loaded');
  });

  it('fixture.hello returns a value', async () => {
    const result = await vscode.commands.executeCommand('fixture.hello', 'mocha');
    assert.equal(typeof result, 'string');
    assert.match(result, /^hello mocha from VS Code /);
    console.log(`      fixture.hello -> ${JSON.stringify(result)}`);
  });
});
