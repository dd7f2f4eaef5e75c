/**
 * The Runs Table webview's standalone page harness: the real bundle (dist/webview/runsTable.js)
 * in a plain page under the panel's CSP, with a stub `acquireVsCodeApi` in place of VS Code.
 * Host messages cross as JSON, as VS Code sends them. `connectPresenter` puts the real
 * RunsTablePresenter over a real store behind the page (browser tests); `timeFirstPaint` replays
 * a pre-serialised message timed in the page (benchmark). Pages load from https://runboard.test/
 * through Playwright routes: no server, no network.
 */
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { Store } from '../../src/core/store/store.ts';
import type { HostMessage, RenderedReport, WebviewMessage } from '../../src/shared/runsTableProtocol.ts';
import { makeNonce } from '../../src/vscode/webviews/html.ts';
import { runsTableHtml } from '../../src/vscode/webviews/runsTable/html.ts';
import { RunsTablePresenter, type RunsTablePort } from '../../src/vscode/webviews/runsTable/presenter.ts';
import { DARK_MODERN } from './compareHarness.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const ORIGIN = 'https://runboard.test';
const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf', '.map': 'application/json' };

/** VS Code's Light Modern colors the table uses, for the light screenshot. */
export const LIGHT_MODERN: Record<string, string> = {
  ...DARK_MODERN,
  '--vscode-foreground': '#3b3b3b',
  '--vscode-descriptionForeground': '#3b3b3b',
  '--vscode-errorForeground': '#f85149',
  '--vscode-editor-background': '#ffffff',
  '--vscode-sideBar-background': '#f8f8f8',
  '--vscode-panel-border': '#e5e5e5',
  '--vscode-editorWidget-background': '#f8f8f8',
  '--vscode-editorWidget-border': '#e5e5e5',
  '--vscode-editorGroupHeader-tabsBackground': '#f8f8f8',
  '--vscode-list-activeSelectionBackground': '#e8e8e8',
  '--vscode-list-activeSelectionForeground': '#000000',
  '--vscode-list-hoverBackground': '#f2f2f2',
  '--vscode-button-secondaryBackground': '#e5e5e5',
  '--vscode-button-secondaryForeground': '#3b3b3b',
  '--vscode-button-secondaryHoverBackground': '#cccccc',
  '--vscode-settings-textInputBackground': '#ffffff',
  '--vscode-settings-textInputForeground': '#3b3b3b',
  '--vscode-settings-textInputBorder': '#cecece',
  '--vscode-settings-checkboxBackground': '#ffffff',
  '--vscode-settings-checkboxBorder': '#cecece',
  '--vscode-settings-checkboxForeground': '#3b3b3b',
  '--vscode-input-placeholderForeground': '#767676',
  '--vscode-settings-dropdownBackground': '#ffffff',
  '--vscode-settings-dropdownBorder': '#cecece',
  '--vscode-settings-dropdownForeground': '#3b3b3b',
  '--vscode-checkbox-background': '#f8f8f8',
  '--vscode-checkbox-border': '#cecece',
  '--vscode-checkbox-foreground': '#3b3b3b',
  '--vscode-icon-foreground': '#3b3b3b',
  '--vscode-inputValidation-errorBackground': '#f2dede',
  '--vscode-inputValidation-errorBorder': '#be1100',
  '--vscode-charts-green': '#388a34',
  '--vscode-charts-blue': '#1a85ff',
};

function stubScript(theme: Record<string, string>, dark: boolean): string {
  return `(() => {
  const root = document.documentElement;
  for (const [k, v] of Object.entries(${JSON.stringify(theme)})) root.style.setProperty(k, v);
  document.body.classList.add(${JSON.stringify(dark ? 'vscode-dark' : 'vscode-light')});
  const H = (window.__harness = { state: undefined, staged: undefined, timings: [], t0: 0 });
  const dispatch = (data) => window.dispatchEvent(new MessageEvent('message', { data }));
  H.deliver = (json) => dispatch(JSON.parse(json));
  H.stage = (json) => { H.staged = json; };
  // The benchmark's clock starts before the message is parsed, as VS Code's webview parses it.
  H.replay = () => { H.timings = []; H.t0 = performance.now(); dispatch(JSON.parse(H.staged)); };
  window.acquireVsCodeApi = () => ({
    postMessage(message) {
      if (message.type === 'rendered') {
        const at = performance.now() - H.t0;
        // Painted: the frame after the render.
        requestAnimationFrame(() => H.timings.push({ report: message.report, at, painted: performance.now() - H.t0 }));
      }
      if (window.runboardPageToNode) window.runboardPageToNode(JSON.stringify(message));
    },
    getState: () => H.state,
    setState: (s) => { H.state = s; return s; },
  });
})();`;
}

export interface RunsTablePage {
  page: Page;
  context: BrowserContext;
  sent: WebviewMessage[];
  cspViolations: string[];
  consoleErrors: string[];
  deliver(message: HostMessage): Promise<void>;
  waitForMessage<T extends WebviewMessage['type']>(type: T, predicate?: (m: Extract<WebviewMessage, { type: T }>) => boolean, timeoutMs?: number): Promise<Extract<WebviewMessage, { type: T }>>;
  /** The next `rendered` report after `action` (or the last one that matches). */
  rendered(action: () => Promise<unknown>, predicate?: (r: RenderedReport) => boolean): Promise<RenderedReport>;
  close(): Promise<void>;
}

/** Opens the Runs Table webview in a fresh page (1440×900 by default) and waits for its `ready`. */
export async function openRunsTablePage(browser: Browser, options: { width?: number; height?: number; light?: boolean } = {}): Promise<RunsTablePage> {
  const context = await browser.newContext({ viewport: { width: options.width ?? 1440, height: options.height ?? 900 }, deviceScaleFactor: 1 });
  const nonce = makeNonce();
  const html = runsTableHtml({
    cspSource: ORIGIN,
    nonce,
    scriptUri: `${ORIGIN}/dist/webview/runsTable.js`,
    styleUri: `${ORIGIN}/dist/webview/runsTable.css`,
    codiconsUri: `${ORIGIN}/dist/webview/codicons/codicon.css`,
    preludeUris: [`${ORIGIN}/harness/stub.js`],
  });
  const stub = stubScript(options.light ? LIGHT_MODERN : DARK_MODERN, !options.light);
  await context.route(`${ORIGIN}/**`, async (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path === '/index.html') return route.fulfill({ body: html, contentType: 'text/html' });
    if (path === '/harness/stub.js') return route.fulfill({ body: stub, contentType: 'text/javascript' });
    const file = normalize(join(ROOT, decodeURIComponent(path)));
    if (!file.startsWith(join(ROOT, 'dist', 'webview') + sep)) return route.fulfill({ status: 404, body: 'not found' });
    return readFile(file).then(
      (body) => route.fulfill({ body, contentType: TYPES[extname(file)] ?? 'application/octet-stream' }),
      () => route.fulfill({ status: 404, body: 'not found' }),
    );
  });
  const page = await context.newPage();
  const sent: WebviewMessage[] = [];
  const waiters = new Set<() => void>();
  const cspViolations: string[] = [];
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await page.exposeBinding('runboardPageToNode', (_source, json: string) => {
    sent.push(JSON.parse(json) as WebviewMessage);
    for (const w of [...waiters]) w();
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`));
    const w = window as unknown as { alert: (text?: string) => void; alerted?: string[] };
    // An injected handler that ran would leave a trace here.
    w.alerted = [];
    w.alert = (text?: string) => void w.alerted!.push(String(text));
  });
  await page.goto(`${ORIGIN}/index.html`);

  const waitForMessage: RunsTablePage['waitForMessage'] = (type, predicate = () => true, timeoutMs = 15_000) => {
    type M = Extract<WebviewMessage, { type: typeof type }>;
    const find = (from: number) => sent.slice(from).find((m): m is M => m.type === type && predicate(m as M));
    const found = find(0);
    if (found) return Promise.resolve(found);
    return new Promise<M>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(w);
        reject(new Error(`No ${type} message within ${timeoutMs} ms`));
      }, timeoutMs);
      const w = () => {
        const m = find(0);
        if (!m) return;
        clearTimeout(timer);
        waiters.delete(w);
        resolve(m);
      };
      waiters.add(w);
    });
  };
  await waitForMessage('ready');
  let chain = Promise.resolve();
  return {
    page,
    context,
    sent,
    cspViolations,
    consoleErrors,
    waitForMessage,
    deliver(message) {
      const json = JSON.stringify(message);
      chain = chain.then(() => page.evaluate((j) => (window as unknown as { __harness: { deliver(j: string): void } }).__harness.deliver(j), json));
      return chain;
    },
    async rendered(action, predicate = () => true) {
      const from = sent.length;
      await action();
      const next = () => sent.slice(from).findLast((m): m is Extract<WebviewMessage, { type: 'rendered' }> => m.type === 'rendered' && predicate(m.report));
      for (const end = Date.now() + 15_000; Date.now() < end; await new Promise((r) => setTimeout(r, 10))) {
        const m = next();
        if (m) return m.report;
      }
      throw new Error('No matching rendered report within 15 s');
    },
    close: () => context.close(),
  };
}

/** The real presenter over `store`, answering the page; the `ready` it already sent is replayed. */
export function connectPresenter(tp: RunsTablePage, store: Store, port: Partial<RunsTablePort> = {}): RunsTablePresenter & { stop(): void } {
  const presenter = new RunsTablePresenter(store, {
    post: (m) => void tp.deliver(m).catch(() => {}),
    execute: port.execute ?? (async () => {}),
    open: port.open ?? (async () => {}),
    loadView: port.loadView ?? (() => undefined),
    saveView: port.saveView ?? (() => {}),
    showError: port.showError ?? (() => {}),
    log: port.log ?? (() => {}),
  });
  let seen = 0;
  const pump = () => {
    while (seen < tp.sent.length) void presenter.handle(tp.sent[seen++]!);
  };
  pump();
  const timer = setInterval(pump, 5);
  // A failed test never stops it: it must not keep the test process alive.
  timer.unref();
  return Object.assign(presenter, { stop: () => clearInterval(timer) });
}

/** Replays a staged `runs` message in the page; resolves with the first render's times from the message (before parsing) to the render and to the next frame. */
export async function timeFirstPaint(tp: RunsTablePage, message: HostMessage): Promise<{ renderMs: number; paintMs: number; report: RenderedReport }> {
  await tp.page.evaluate((j) => (window as unknown as { __harness: { stage(j: string): void } }).__harness.stage(j), JSON.stringify(message));
  await tp.page.evaluate(() => (window as unknown as { __harness: { timings: unknown[]; replay(): void } }).__harness.replay());
  const handle = await tp.page.waitForFunction(() => (window as unknown as { __harness: { timings: unknown[] } }).__harness.timings.at(-1) ?? null, undefined, { polling: 5 });
  const t = (await handle.jsonValue()) as { report: RenderedReport; at: number; painted: number };
  return { renderMs: t.at, paintMs: t.painted, report: t.report };
}
