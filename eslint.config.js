import { dirname, relative, resolve, sep } from 'node:path';
import tseslint from 'typescript-eslint';

const noVscode = {
  'no-restricted-imports': [
    'error',
    {
      paths: [{ name: 'vscode', message: 'src/core, src/shared and webview/ run without VS Code: keep the vscode API in src/vscode/.', allowTypeImports: true }],
    },
  ],
};

/**
 * The floors of the house: which folder may import which. Each zone names the files it governs
 * (a path prefix from the repository root) and either `only` (import targets must lie there;
 * `typeOnly` lists where `import type` may reach besides) or `forbid` (targets that may not be
 * imported, folders or packages).
 * Relative imports are resolved against the importing file.
 */
const layers = {
  meta: { type: 'problem', schema: [{ type: 'array' }], messages: { layer: '{{file}} may not import {{target}}: {{why}}' } },
  create(context) {
    const root = context.cwd;
    const toPosix = (path) => path.split(sep).join('/');
    const file = toPosix(relative(root, context.filename));
    const zones = context.options[0].filter((zone) => file.startsWith(zone.files));
    if (zones.length === 0) return {};
    const check = (node, source, typeOnly) => {
      if (!source || typeof source.value !== 'string') return;
      const spec = source.value;
      const target = spec.startsWith('.') ? toPosix(relative(root, resolve(dirname(context.filename), spec))) : spec;
      const under = (prefixes = []) => prefixes.some((p) => target === p || target.startsWith(p.endsWith('/') ? p : `${p}/`));
      for (const zone of zones) {
        const outside = zone.only && spec.startsWith('.') && !under(zone.only) && !(typeOnly && under(zone.typeOnly));
        if (outside || under(zone.forbid)) context.report({ node, messageId: 'layer', data: { file, target: spec, why: zone.why } });
      }
    };
    const typeOnly = (node) => node.importKind === 'type' || node.exportKind === 'type' || (node.specifiers?.length > 0 && node.specifiers.every((s) => s.importKind === 'type' || s.exportKind === 'type'));
    return {
      ImportDeclaration: (node) => check(node, node.source, typeOnly(node)),
      ExportNamedDeclaration: (node) => check(node, node.source, typeOnly(node)),
      ExportAllDeclaration: (node) => check(node, node.source, node.exportKind === 'type'),
      ImportExpression: (node) => check(node, node.source, false),
    };
  },
};

export const LAYERS = [
  {
    files: 'src/core/',
    // The run-filter grammar is pure code: the MLflow server (src/core/mlflow) parses runs/search with it.
    only: ['src/core/', 'src/shared/runFilter.ts'],
    typeOnly: ['src/shared/'],
    why: 'the core stands alone (type-only imports from src/shared excepted, and the pure run-filter grammar)',
  },
  { files: 'src/cli', forbid: ['src/vscode', 'vscode'], why: 'the CLI never loads the editor face' },
  { files: 'webview/', forbid: ['src/vscode', 'vscode'], why: 'a webview runs in the browser and talks to its host only by messages' },
  { files: 'src/vscode/views/', forbid: ['src/vscode/commands'], why: 'views are acted on by commands, never the other way round' },
];

export default tseslint.config(
  { ignores: ['dist/', 'out/', 'node_modules/', '.vscode-test/', 'test/harness-fixture/', 'test-results/'] },
  ...tseslint.configs.recommended,
  {
    plugins: { runboard: { rules: { layers } } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'runboard/layers': ['error', LAYERS],
    },
  },
  // The core must run on plain Node (CLI, unit tests); shared code, webviews and presenters never see the API.
  { files: ['src/core/**', 'webview/**', 'src/vscode/webviews/*/presenter.ts'], rules: noVscode },
  {
    files: ['src/shared/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'src/shared may use type-only imports of vscode.', allowTypeImports: true }] }],
    },
  },
  {
    files: ['src/core/**', 'webview/**', 'src/vscode/webviews/*/presenter.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'No vscode here, not even types.' }] }],
    },
  },
);
