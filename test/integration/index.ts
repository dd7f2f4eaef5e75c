import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The tests entry the extension host loads (extensionTestsPath): runs mocha over the bundled
 * `*.test.js` files beside it. Same contract as @vscode/test-electron: resolves when every test
 * passed, rejects otherwise. MOCHA_GREP=<regex> runs a subset.
 */
export async function run(): Promise<void> {
  // mocha 12 is an ES module; the bundle keeps this import() dynamic and resolves it from node_modules.
  const { default: Mocha } = await import('mocha');
  const mocha = new Mocha({ ui: 'bdd', color: false, timeout: 60_000, reporter: 'spec' });
  if (process.env.MOCHA_GREP) mocha.grep(process.env.MOCHA_GREP);
  for (const file of readdirSync(__dirname).filter((f) => f.endsWith('.test.js')).sort()) mocha.addFile(join(__dirname, file));
  await mocha.loadFilesAsync();
  await new Promise<void>((resolve, reject) => {
    mocha.run((failures) => (failures > 0 ? reject(new Error(`${failures} integration test(s) failed`)) : resolve()));
  });
}
