import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { CLI_DEADLINE_MS } from './cliHarness.ts';
import { tempDir } from './helpers.ts';
import { alive, PY, waitFor } from './launchHelpers.ts';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli.ts');

test('SIGHUP (the terminal closed) stops a sweep like Ctrl-C: the parent and its running child end killed', async () => {
  const ws = tempDir();
  mkdirSync(join(ws, '.runboard'));
  writeFileSync(join(ws, 'nap.py'), 'import time\nprint("loss=0.5", flush=True)\ntime.sleep(60)\n');
  const profile = { command: ['${interpreter}', 'nap.py', '--seed', '${param:seed}'], interpreter: PY, params: [{ name: 'seed', type: 'int', default: 1 }] };
  writeFileSync(join(ws, '.runboard', 'profiles.json'), JSON.stringify({ profiles: { nap: profile } }));
  const child = spawn(process.execPath, [CLI, 'sweep', '--profile', 'nap', '--grid', 'seed=1,2', '--parallel', '1'], { cwd: ws, env: { ...process.env, RUNBOARD_DB: '' } });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.resume();
  await waitFor(() => / started \(/.test(stderr), CLI_DEADLINE_MS, 'the first child run');
  const store = Store.open(join(ws, '.runboard', 'runboard.db'), { readonly: true });
  try {
    await waitFor(() => store.runs({}).some((r) => r.parentId !== null && r.pid !== null), CLI_DEADLINE_MS, 'the child process');
    const running = store.runs({}).find((r) => r.parentId !== null && r.pid !== null)!;
    child.kill('SIGHUP');
    const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
    assert.equal(signal, null, `the CLI died of ${signal} instead of stopping the sweep\n${stderr}`);
    assert.equal(code, 128 + 15, stderr);
    const parent = store.run(running.parentId!)!;
    assert.equal(parent.status, 'killed');
    assert.equal(store.run(running.id)!.status, 'killed');
    assert.ok(!alive(running.pid!), 'the training process is gone');
  } finally {
    store.close();
  }
});
