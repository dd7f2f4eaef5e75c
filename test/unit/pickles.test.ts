import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadsAsPickle, pickleWarning, vouchedVersion } from '../../src/core/registry/pickles.ts';
import { Registry } from '../../src/core/registry/registry.ts';
import { cli } from './cliHarness.ts';
import { tempDir, tempStore } from './helpers.ts';
import { recordRun, SYSTEM_PYTHON } from './registryFixtures.ts';

const WARNING = /^runboard: warning: \S+ is a pickle that no Runboard run wrote \(no lineage\): loading it, as a deployment does, runs any code it holds/m;

/** A pickle whose loading runs a shell command that leaves `marker` behind. */
function hostilePickle(path: string, marker: string): void {
  execFileSync(SYSTEM_PYTHON, ['-c', `import os, pickle, sys
class Evil:
    def __reduce__(self):
        return (os.system, ("touch " + sys.argv[2],))
pickle.dump(Evil(), open(sys.argv[1], "wb"))`, path, marker]);
}

test('CLI: registering and deploying a pickle no run wrote print a warning on stderr (deploying one ran its code silently)', () => {
  const ws = tempDir();
  const marker = join(ws, 'pwned');
  hostilePickle(join(ws, 'evil.pkl'), marker);
  const registered = cli(['models', 'register', '--file', 'evil.pkl', '--name', 'evil'], { cwd: ws });
  assert.equal(registered.code, 0, registered.stderr);
  assert.match(registered.stderr, WARNING);
  assert.ok(!existsSync(marker), 'registering never loads the model');
  const deployed = cli(['deploy', 'evil', '--python', SYSTEM_PYTHON], { cwd: ws });
  assert.match(deployed.stderr, WARNING);
  assert.equal(deployed.stderr.split('\n')[0]!.startsWith('runboard: warning: evil.pkl'), true, 'the warning comes before the deployment');
});

test("a run's recorded artifact is vouched for; an unrecorded file in its folder, a --file pickle, are not", () => {
  const { store, workspace } = tempStore();
  const bytes = join(workspace, 'model.bin');
  writeFileSync(bytes, 'bytes of a model');
  const run = recordRun(store, workspace, { model: bytes });
  writeFileSync(join(run.runDir!, 'dropped.pkl'), 'not recorded by the run');
  const registry = new Registry(store);
  const recorded = registry.register({ name: 'a', run: run.id, artifact: 'model.pkl' });
  const dropped = registry.register({ name: 'b', run: run.id, artifact: 'dropped.pkl' });
  const file = registry.register({ name: 'c', file: join(run.runDir!, 'model.pkl') });
  assert.deepEqual([recorded, dropped, file].map(vouchedVersion), [true, false, false]);
  assert.equal(pickleWarning(recorded.storedPath, vouchedVersion(recorded)), undefined);
  assert.match(pickleWarning(dropped.storedPath, vouchedVersion(dropped)) ?? '', /dropped\.pkl is a pickle that no Runboard run wrote/);
});

test('which files load as pickles: pickle and joblib files, torch.save files; not TorchScript, ONNX or safetensors', () => {
  const dir = tempDir();
  execFileSync(SYSTEM_PYTHON, ['-c', `import pickle, zipfile, sys
d = sys.argv[1]
pickle.dump({"w": [1, 2]}, open(d + "/legacy.pt", "wb"), protocol=2)
with zipfile.ZipFile(d + "/saved.pth", "w") as z:
    z.writestr("archive/data.pkl", pickle.dumps({"w": 1}))
    z.writestr("archive/version", "3")
with zipfile.ZipFile(d + "/scripted.pt", "w") as z:
    z.writestr("scripted/data.pkl", pickle.dumps(1))
    z.writestr("scripted/code/__torch__/m.py", "def forward(self): pass")
`, dir]);
  for (const [name, bytes] of [['m.pkl', 'x'], ['m.joblib', 'x'], ['m.PICKLE', 'x'], ['m.onnx', 'x'], ['m.safetensors', 'x']]) writeFileSync(join(dir, name!), bytes!);
  const kinds = Object.fromEntries(['m.pkl', 'm.joblib', 'm.PICKLE', 'legacy.pt', 'saved.pth', 'scripted.pt', 'm.onnx', 'm.safetensors', 'missing.pt'].map((n) => [n, loadsAsPickle(join(dir, n))]));
  assert.deepEqual(kinds, { 'm.pkl': true, 'm.joblib': true, 'm.PICKLE': true, 'legacy.pt': true, 'saved.pth': true, 'scripted.pt': false, 'm.onnx': false, 'm.safetensors': false, 'missing.pt': true });
});
