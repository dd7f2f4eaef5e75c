// Bundles the integration tests for the extension host: test/integration/index.ts and every
// *.test.ts into out/integration/ as CommonJS (.js, with a package.json saying so, since the repo
// is "type": "module"). vscode comes from the host; mocha is resolved from node_modules.
import * as esbuild from 'esbuild';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const src = 'test/integration';
const out = 'out/integration';
const entries = readdirSync(src)
  .filter((f) => f === 'index.ts' || f.endsWith('.test.ts'))
  .map((f) => join(src, f));

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'package.json'), '{ "type": "commonjs" }\n');
await esbuild.build({
  entryPoints: entries,
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
