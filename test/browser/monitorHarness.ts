/**
 * The Monitor webview's standalone page harness: the real bundle (dist/webview/monitor.js) in a
 * plain page under the panel's CSP, with a stub `acquireVsCodeApi` in place of VS Code that hands
 * every post to Node. The test plays the host: it delivers MonitorPresenter's messages.
 * Pages load from https://runboard.test/ through Playwright routes: no server, no network.
 */
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { HostMessage, WebviewMessage } from '../../src/shared/monitorProtocol.ts';
import { makeNonce } from '../../src/vscode/webviews/html.ts';
import { monitorHtml } from '../../src/vscode/webviews/monitor/html.ts';
import { DARK_MODERN } from './compareHarness.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const ORIGIN = 'https://runboard.test';
const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf', '.map': 'application/json' };

/** VS Code's Light Modern colours, as VS Code sets them on a webview's <html>. */
export const LIGHT_MODERN: Record<string, string> = {
  ...DARK_MODERN,
  '--vscode-foreground': '#3b3b3b',
  '--vscode-descriptionForeground': '#3b3b3b',
  '--vscode-errorForeground': '#f85149',
  '--vscode-focusBorder': '#005fb8',
  '--vscode-editor-background': '#ffffff',
  '--vscode-panel-border': '#e5e5e5',
  '--vscode-editorWidget-background': '#f8f8f8',
  '--vscode-editorWidget-border': '#e5e5e5',
  '--vscode-editorHoverWidget-background': '#f8f8f8',
  '--vscode-editorHoverWidget-foreground': '#3b3b3b',
  '--vscode-editorHoverWidget-border': '#c8c8c8',
  '--vscode-button-background': '#005fb8',
  '--vscode-button-hoverBackground': '#0258a8',
  '--vscode-button-secondaryBackground': '#e5e5e5',
  '--vscode-button-secondaryForeground': '#3b3b3b',
  '--vscode-button-secondaryHoverBackground': '#cccccc',
  '--vscode-settings-dropdownBackground': '#ffffff',
  '--vscode-settings-dropdownBorder': '#cecece',
  '--vscode-settings-dropdownForeground': '#3b3b3b',
  '--vscode-list-activeSelectionBackground': '#e8e8e8',
  '--vscode-list-activeSelectionForeground': '#000000',
  '--vscode-charts-foreground': '#616161',
  '--vscode-charts-lines': 'rgba(97, 97, 97, 0.5)',
  '--vscode-charts-red': '#e51400',
  '--vscode-charts-blue': '#1a85ff',
  '--vscode-charts-yellow': '#bf8803',
  '--vscode-charts-orange': '#d18616',
  '--vscode-charts-green': '#388a34',
  '--vscode-charts-purple': '#652d90',
};

export interface MonitorPage {
  page: Page;
  context: BrowserContext;
  /** Messages the webview posted, in order. */
  sent: WebviewMessage[];
  /** CSP violations and script errors the page reported. */
  problems: string[];
  deliver(message: HostMessage): Promise<void>;
  /** The next (or an already posted) message of a type that matches. */
  waitFor<T extends WebviewMessage['type']>(type: T, predicate?: (m: Extract<WebviewMessage, { type: T }>) => boolean, timeoutMs?: number): Promise<Extract<WebviewMessage, { type: T }>>;
  close(): Promise<void>;
}

function stub(theme: Record<string, string>, dark: boolean): string {
  const kind = dark ? 'vscode-dark' : 'vscode-light';
  return `(() => {
  const root = document.documentElement;
  for (const [k, v] of Object.entries(${JSON.stringify(theme)})) root.style.setProperty(k, v);
  document.body.classList.add('${kind}');
  document.body.dataset.vscodeThemeKind = '${kind}';
  let state;
  window.acquireVsCodeApi = () => ({
    postMessage: (message) => window.runboardPageToNode(JSON.stringify(message)),
    getState: () => state,
    setState: (s) => { state = s; return s; },
  });
})();`;
}

/** Opens the Monitor webview in a fresh page and waits for its `ready`. */
export async function openMonitorPage(browser: Browser, options: { width?: number; height?: number; light?: boolean } = {}): Promise<MonitorPage> {
  const context = await browser.newContext({ viewport: { width: options.width ?? 1280, height: options.height ?? 900 }, deviceScaleFactor: 1 });
  const nonce = makeNonce();
  const html = monitorHtml({
    cspSource: ORIGIN,
    nonce,
    scriptUri: `${ORIGIN}/dist/webview/monitor.js`,
    styleUri: `${ORIGIN}/dist/webview/monitor.css`,
    codiconsUri: `${ORIGIN}/dist/webview/codicons/codicon.css`,
    preludeUris: [`${ORIGIN}/harness/stub.js`],
  });
  const stubJs = stub(options.light ? LIGHT_MODERN : DARK_MODERN, !options.light);
  await context.route(`${ORIGIN}/**`, async (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path === '/index.html') return route.fulfill({ body: html, contentType: 'text/html' });
    if (path === '/harness/stub.js') return route.fulfill({ body: stubJs, contentType: 'text/javascript' });
    const file = normalize(join(ROOT, decodeURIComponent(path)));
    if (!file.startsWith(join(ROOT, 'dist', 'webview') + sep)) return route.fulfill({ status: 404, body: 'not found' });
    try {
      return route.fulfill({ body: await readFile(file), contentType: TYPES[extname(file)] ?? 'application/octet-stream' });
    } catch {
      return route.fulfill({ status: 404, body: 'not found' });
    }
  });
  const page = await context.newPage();
  const sent: WebviewMessage[] = [];
  const problems: string[] = [];
  const waiters = new Set<() => void>();
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`));
    // An injected handler that ran would leave a trace here.
    const w = window as unknown as { alerted: string[]; alert: (text?: string) => void };
    w.alerted = [];
    w.alert = (text?: string) => void w.alerted.push(String(text));
  });
  await page.exposeBinding('runboardPageToNode', (_source, json: string) => {
    const message = JSON.parse(json) as WebviewMessage;
    sent.push(message);
    if (message.type === 'error') problems.push(message.message);
    for (const w of [...waiters]) w();
  });
  const mp: MonitorPage = {
    page,
    context,
    sent,
    problems,
    deliver: (message) => page.evaluate((json) => window.dispatchEvent(new MessageEvent('message', { data: JSON.parse(json) })), JSON.stringify(message)).then(() => undefined),
    waitFor(type, predicate = () => true, timeoutMs = 10_000) {
      type M = Extract<WebviewMessage, { type: typeof type }>;
      const find = () => sent.find((m): m is M => m.type === type && predicate(m as M));
      return new Promise<M>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`No ${type} message within ${timeoutMs} ms`));
        }, timeoutMs);
        const check = () => {
          const found = find();
          if (!found) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        waiters.add(check);
        check();
      });
    },
    close: () => context.close(),
  };
  await page.goto(`${ORIGIN}/index.html`);
  await mp.waitFor('ready');
  return mp;
}
