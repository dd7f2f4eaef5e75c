import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { isModelFile, MODEL_EXTENSIONS } from '../../src/core/modelFiles.ts';
import { artifactKind } from '../../src/core/tracking/runFolder.ts';

const manifest = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8'));

test("the Explorer's Register and Deploy menus match exactly the model file kinds", () => {
  const entries: { command: string; when: string }[] = manifest.contributes.menus['explorer/context'];
  const onModels = entries.filter((e) => e.when.includes('resourceExtname =~'));
  assert.deepEqual(entries.filter((e) => e.when.includes('resourceExtname == .py')).map((e) => e.command), ['runboard.createProfile']);
  assert.deepEqual(onModels.map((e) => e.command).sort(), ['runboard.deployModel', 'runboard.registerModel']);
  for (const entry of onModels) {
    const [, source, flags] = /resourceExtname =~ \/(.+?)\/(\w*)/.exec(entry.when)!;
    const regex = new RegExp(source!, flags);
    for (const ext of MODEL_EXTENSIONS) {
      assert.ok(regex.test(ext) && regex.test(ext.toUpperCase()), `${entry.command} on ${ext}`);
    }
    const listed = /\(([^)]+)\)/.exec(source!)![1]!.split('|').map((e) => `.${e}`);
    assert.deepEqual(listed.sort(), [...MODEL_EXTENSIONS].sort(), `${entry.command} lists exactly the model file kinds`);
    for (const other of ['.py', '.csv', '.pkl.bak', '.bin', '']) assert.ok(!regex.test(other), `${entry.command} not on "${other}"`);
  }
});

test('isModelFile and the artifact kind agree, whatever the case of the extension', () => {
  for (const ext of MODEL_EXTENSIONS) {
    assert.ok(isModelFile(`out/model${ext.toUpperCase()}`));
    assert.equal(artifactKind(`out/model${ext}`), 'model');
  }
  for (const path of ['model.pkl.bak', 'pkl', 'notes.txt', 'data.csv']) assert.ok(!isModelFile(path), path);
  assert.equal(artifactKind('data.csv'), 'data');
});
