import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Store } from '../../src/core/store/store.ts';
import { CLI_DEADLINE_MS, cli, json } from './cliHarness.ts';
import { tempDir } from './helpers.ts';
import { alive, PY, waitFor } from './launchHelpers.ts';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli.ts');
const LINES = 100_000;

/** Runs a real shell pipeline; `$RUNBOARD` is the CLI. The exit codes of its stages come back on the last stderr line. */
function pipeline(script: string, cwd: string): { stdout: string; stderr: string; codes: number[] } {
  const ran = spawnSync('bash', ['-c', `${script}; echo "codes \${PIPESTATUS[*]}" >&2`], {
    cwd,
    env: { ...process.env, RUNBOARD_DB: '', RUNBOARD: `"${process.execPath}" "${CLI}"` },
    encoding: 'utf8',
    timeout: 120_000,
  });
  const lines = ran.stderr.trimEnd().split('\n');
  const codes = lines.pop()!.replace('codes ', '').split(' ').map(Number);
  return { stdout: ran.stdout, stderr: lines.join('\n'), codes };
}

/** A workspace with one finished run holding LINES points of `loss`, whose stdout went to a reader that left at once. */
function workspaceWithPipedRun(): { ws: string; piped: ReturnType<typeof pipeline> } {
  const ws = tempDir();
  writeFileSync(join(ws, 'gen.py'), `import sys\nfor i in range(${LINES}):\n    print(f"step={i} loss={1/(i+1)}")\nsys.exit(3)\n`);
  const piped = pipeline(`eval "$RUNBOARD" run --name x -- ${PY} gen.py | head -1`, ws);
  return { ws, piped };
}

describe("the CLI's own stdout closes early or fails", () => {
  const { ws, piped } = workspaceWithPipedRun();

  it('run | head -1: capture goes on to the end, the run is finalized whole, the exit code is the command\'s', () => {
    assert.equal(piped.stdout, 'step=0 loss=1.0\n');
    assert.doesNotMatch(piped.stderr, /EPIPE|\n\s+at /, 'no stack trace');
    assert.equal(piped.codes[0], 3, `runboard exits with the command's code\n${piped.stderr}`);
    const shown = json(cli(['show', 'x', '--json'], { cwd: ws }));
    assert.equal(shown.status, 'failed');
    assert.equal(shown.exitCode, 3);
    assert.equal(shown.error, null);
    assert.equal(shown.metrics.loss.count, LINES);
    assert.equal(readFileSync(join(shown.runDir, 'stdout.log'), 'utf8').split('\n').length - 1, LINES, 'stdout.log holds every line');
  });

  it('show --json | true and metrics | head -2 exit quietly', () => {
    const shown = pipeline('eval "$RUNBOARD" show x --json | true', ws);
    assert.deepEqual([shown.stderr, shown.codes], ['', [0, 0]]);
    const head = pipeline('eval "$RUNBOARD" metrics x loss | head -2', ws);
    assert.match(head.stdout.split('\n')[0]!, /^STEP\s+VALUE\s+TIME$/);
    assert.deepEqual([head.stderr, head.codes], ['', [0, 0]]);
  });

  it('metrics > /dev/full: one line naming ENOSPC and exit 74', () => {
    const full = pipeline('eval "$RUNBOARD" metrics x loss > /dev/full', ws);
    assert.match(full.stderr, /^runboard metrics: the output could not be written \(ENOSPC\)$/);
    assert.deepEqual(full.codes, [74]);
  });

  it('SIGHUP (the terminal closed) finalizes the run as killed, like Ctrl-C', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'sleepy.py'), 'import time\nprint("loss=0.5", flush=True)\ntime.sleep(60)\n');
    const child = spawn(process.execPath, [CLI, 'run', '--name', 'hup', '--', PY, 'sleepy.py'], { cwd: dir, env: { ...process.env, RUNBOARD_DB: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    await waitFor(() => stdout.includes('loss=0.5'), CLI_DEADLINE_MS, 'the training output');
    child.kill('SIGHUP');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 128 + 15, stderr);
    const shown = json(cli(['show', 'hup', '--json'], { cwd: dir }));
    assert.equal(shown.status, 'killed');
    assert.equal(shown.metrics.loss.last, 0.5);
    const store = Store.open(join(dir, '.runboard', 'runboard.db'), { readonly: true });
    const pid = store.run(shown.id)!.pid!;
    store.close();
    assert.ok(!alive(pid), 'the training process is gone');
  });
});
