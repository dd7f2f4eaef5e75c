// Test entry point loaded by the extension host (the `extensionTestsPath`).
// Same contract as @vscode/test-electron: export run(): Promise<void>, which
// rejects when any test fails, so this suite also runs under test-electron
// on a desktop.
//
// Environment knobs (set them on the run-tests.mjs command line; the VS Code
// server passes its environment on to the extension host):
//   MOCHA_GREP=<regex>          run only matching tests
//   HARNESS_FIXTURE_FAIL=1      also load failing.test.js (proves a failing
//                               test turns into a non-zero exit code)
'use strict';
const fs = require('node:fs');
const path = require('node:path');

async function run() {
  // mocha 12 is an ES module; import() works from CommonJS.
  const { default: Mocha } = await import('mocha');
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 20000, reporter: 'spec' });
  if (process.env.MOCHA_GREP) mocha.grep(process.env.MOCHA_GREP);

  const files = fs
    .readdirSync(__dirname, { recursive: true })
    .filter((f) => f.endsWith('.test.js'))
    .filter((f) => process.env.HARNESS_FIXTURE_FAIL === '1' || path.basename(f) !== 'failing.test.js')
    .sort();
  for (const f of files) mocha.addFile(path.resolve(__dirname, f));
  await mocha.loadFilesAsync();

  await new Promise((resolve, reject) => {
    const runner = mocha.run((failures) => {
      // Plain closing line that CI summaries understand.
      const { passes = 0, pending = 0 } = runner.stats || {};
      console.log(`${passes} passed, ${failures} failed${pending ? `, ${pending} skipped` : ''}`);
      if (failures > 0) reject(new Error(`${failures} test(s) failed.`));
      else resolve();
    });
  });
}

module.exports = { run };
