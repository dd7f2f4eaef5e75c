// The floors of the house are enforced by ESLint (eslint.config.js, rule runboard/layers): each
// rule is run here on small sources placed, virtually, in the folder it governs.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { ESLint } from 'eslint';

const root = join(import.meta.dirname, '..', '..');
const eslint = new ESLint({ cwd: root });

/** The messages of the layers rule (and the vscode bans) for `code` as if it were the file at `path`. */
async function problems(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(root, path) });
  return result!.messages.filter((m) => m.ruleId === 'runboard/layers' || /no-restricted-imports/.test(m.ruleId ?? '')).map((m) => m.message);
}

test('a core file importing outside src/core fails; type-only imports from src/shared pass', async () => {
  assert.match((await problems('src/core/store/lint-probe.ts', "import { settings } from '../../vscode/settings.ts';\nexport const x = settings;\n"))[0] ?? '', /may not import \.\.\/\.\.\/vscode\/settings\.ts: the core stands alone/);
  assert.equal((await problems('src/core/store/lint-probe.ts', "import { DEFAULT_POINTS } from '../../shared/compareProtocol.ts';\nexport const x = DEFAULT_POINTS;\n")).length, 1, 'a value from src/shared');
  assert.deepEqual(await problems('src/core/store/lint-probe.ts', "import type { ViewState } from '../../shared/compareProtocol.ts';\nexport type X = ViewState;\n"), []);
  assert.deepEqual(await problems('src/core/store/lint-probe.ts', "import { Emitter } from '../events.ts';\nexport const x = Emitter;\n"), []);
});

test('no core file is let through: the compare core importing a value from src/shared fails too', async () => {
  for (const path of ['src/core/compare/series.ts', 'src/core/compare/session.ts']) {
    assert.equal((await problems(path, "import { X_AXES } from '../../shared/compareProtocol.ts';\nexport const x = X_AXES;\n")).length, 1, path);
  }
});

test('a CLI file importing the face fails', async () => {
  assert.match((await problems('src/cli/lint-probe.ts', "import { Container } from '../vscode/container.ts';\nexport const x = Container;\n"))[0] ?? '', /the CLI never loads the editor face/);
  assert.deepEqual(await problems('src/cli/lint-probe.ts', "import { Store } from '../core/store/store.ts';\nexport const x = Store;\n"), []);
});

test('a webview file importing the host fails', async () => {
  assert.match((await problems('webview/lineage/lint-probe.ts', "import { WebviewHost } from '../../src/vscode/webviews/host.ts';\nexport const x = WebviewHost;\n"))[0] ?? '', /a webview runs in the browser/);
  assert.ok((await problems('webview/lineage/lint-probe.ts', "import * as vscode from 'vscode';\nexport const x = vscode;\n")).length > 0, 'vscode itself');
  assert.deepEqual(await problems('webview/lineage/lint-probe.ts', "import type { HostMessage } from '../../src/shared/lineageProtocol.ts';\nexport type X = HostMessage;\n"), []);
});

test('a view importing a command fails', async () => {
  assert.match((await problems('src/vscode/views/lint-probe.ts', "import { stopRunCommand } from '../commands/stopRun.ts';\nexport const x = stopRunCommand;\n"))[0] ?? '', /views are acted on by commands/);
  assert.deepEqual(await problems('src/vscode/views/lint-probe.ts', "import { COMMANDS } from '../commandIds.ts';\nexport const x = COMMANDS;\n"), []);
});

test('a webview presenter may not import vscode', async () => {
  assert.ok((await problems('src/vscode/webviews/lineage/presenter.ts', "import type * as vscode from 'vscode';\nexport type X = vscode.Uri;\n")).length > 0);
});
