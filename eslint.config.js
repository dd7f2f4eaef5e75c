import tseslint from 'typescript-eslint';

const noVscode = {
  'no-restricted-imports': [
    'error',
    {
      paths: [{ name: 'vscode', message: 'src/core, src/shared and webview/ run without VS Code: keep the vscode API in src/ adapters.', allowTypeImports: true }],
    },
  ],
};

export default tseslint.config(
  { ignores: ['dist/', 'out/', 'node_modules/', '.vscode-test/', 'test/harness-fixture/', 'test-results/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  // The core must run on plain Node (CLI, unit tests); shared code and webviews never see the API.
  { files: ['src/core/**', 'webview/**'], rules: noVscode },
  {
    files: ['src/shared/**'],
    rules: {
      'no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'src/shared may use type-only imports of vscode.', allowTypeImports: true }] }],
    },
  },
  {
    files: ['src/core/**', 'webview/**'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { paths: [{ name: 'vscode', message: 'No vscode here, not even types.' }] }],
    },
  },
);
