// Bundles the webviews for the browser: dist/webview/compare.js and compare.css, plus the codicon
// font the vscode-elements icons need. `--watch` rebuilds on change, `--production` minifies.
// The panel's localResourceRoots are dist/webview and media/, so everything it loads lives here.
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');
const outdir = join(root, 'dist', 'webview');

const options = {
  absWorkingDir: root,
  entryPoints: { compare: 'webview/compare/main.ts', lineage: 'webview/lineage/main.ts', monitor: 'webview/monitor/main.ts', runsTable: 'webview/runsTable/main.ts' },
  outdir,
  bundle: true,
  platform: 'browser',
  format: 'iife',
  // VS Code's webviews are the Chromium of its Electron.
  target: ['chrome120'],
  sourcemap: production ? false : 'linked',
  minify: production,
  legalComments: 'linked',
  loader: { '.ttf': 'file' },
  define: { 'process.env.NODE_ENV': production ? '"production"' : '"development"' },
  logLevel: 'warning',
};

mkdirSync(join(outdir, 'codicons'), { recursive: true });
for (const file of ['codicon.css', 'codicon.ttf']) {
  copyFileSync(join(root, 'node_modules', '@vscode', 'codicons', 'dist', file), join(outdir, 'codicons', file));
}

if (watch) {
  await (await esbuild.context(options)).watch();
} else {
  const result = await esbuild.build({ ...options, metafile: true });
  if (process.argv.includes('--sizes')) console.log(await esbuild.analyzeMetafile(result.metafile));
}
