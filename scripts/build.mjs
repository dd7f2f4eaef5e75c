// Bundles the extension, the CLI and the webviews with esbuild. `--watch` rebuilds on change.
import * as esbuild from 'esbuild';
import { existsSync } from 'node:fs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const node = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node22',
  sourcemap: !production,
  minify: production,
  // better-sqlite3 loads a native binary; vscode is provided by the extension host.
  external: ['vscode', 'better-sqlite3'],
  // The sources run as ESM in tests; in the CJS bundle the same expression must mean __dirname.
  define: { 'import.meta.dirname': '__dirname' },
  logLevel: 'warning',
};

const builds = [
  { ...node, entryPoints: ['src/cli.ts'], outfile: 'dist/cli.cjs' },
];
if (existsSync('src/vscode/extension.ts')) builds.push({ ...node, entryPoints: ['src/vscode/extension.ts'], outfile: 'dist/extension.cjs' });

if (watch) {
  for (const options of builds) await (await esbuild.context(options)).watch();
} else {
  await Promise.all(builds.map((options) => esbuild.build(options)));
}
