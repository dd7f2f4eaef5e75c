import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lintProfiles } from '../../src/core/launch/profileLint.ts';

const text = JSON.stringify(
  {
    profiles: {
      train: { command: ['python3', 'train.py', '--lr', '${param:lrr}'], params: [{ name: 'lr', type: 'number', default: 0.1 }] },
      eval: { command: ['python3', 'eval.py'], gates: ['val_accuracy>=0.9', 'min(loss)<=0.3'] },
    },
  },
  null,
  2,
);

test('a semantic error sits on the broken profile, the others stay clean', () => {
  const findings = lintProfiles(text, []);
  assert.equal(findings.length, 1);
  const [finding] = findings;
  assert.equal(finding!.severity, 'error');
  assert.equal(text.slice(finding!.offset, finding!.offset + finding!.length), '"train"');
  assert.match(finding!.message, /\$\{param:lrr\} but "params" declares no "lrr"/);
});

test('a gate on a metric no run has logged is a warning on that gate; none before any run', () => {
  const findings = lintProfiles(text, ['loss', 'val_acc', 'epoch']).filter((f) => f.severity === 'warning');
  assert.equal(findings.length, 1);
  assert.equal(text.slice(findings[0]!.offset, findings[0]!.offset + findings[0]!.length), '"val_accuracy>=0.9"');
  assert.match(findings[0]!.message, /no run has logged \(logged: epoch, loss, val_acc\)/);
});

test('JSON syntax errors are left to the JSON language service; a wrong top level is reported at the start', () => {
  assert.deepEqual(lintProfiles('{ "profiles": ', []), []);
  const [finding] = lintProfiles('{ "profile": {} }', []);
  assert.equal(finding!.offset, 0);
  assert.match(finding!.message, /unknown field "profile"/);
});
