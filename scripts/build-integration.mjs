// Bundles the integration tests for the extension host: test/integration/index.ts and every
// *.test.ts of the suite into out/<suite>/ as CommonJS (.js, with a package.json saying so, since the repo
// is "type": "module"). vscode comes from the host; mocha is resolved from node_modules.
import * as esbuild from 'esbuild';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

// `--suite installed` bundles test/installed/*.test.ts (run against the installed VSIX) with the
// same index into out/installed/.
const suite = process.argv.includes('--suite') ? process.argv[process.argv.indexOf('--suite') + 1] : 'integration';
const src = `test/${suite}`;
const out = `out/${suite}`;
const entries = [
  'test/integration/index.ts',
  ...readdirSync(src)
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => join(src, f)),
];

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'package.json'), '{ "type": "commonjs" }\n');
await esbuild.build({
  // Flat: index.js finds the *.test.js files beside it.
  entryPoints: entries.map((file) => ({ in: file, out: basename(file, '.ts') })),
  outdir: out,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  sourcemap: 'inline',
  external: ['vscode', 'mocha', 'better-sqlite3'],
  define: { 'import.meta.dirname': '__dirname' },
  logLevel: 'warning',
});
console.log(`integration tests: ${entries.length} entries → ${out}/`);
