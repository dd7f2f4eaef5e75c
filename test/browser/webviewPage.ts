/**
 * The standalone page every webview harness builds on: a panel's real bundle (dist/webview/*.js)
 * in a plain page under the panel's own HTML and CSP, with a stub `acquireVsCodeApi` in place of
 * VS Code that keeps setState in memory and hands every post to Node. Host messages cross the way
 * VS Code sends them (JSON beside binary buffers for typed arrays). Pages load from
 * https://runboard.test/ through Playwright routes: no server, no network.
 */
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../../scripts/vscode-test/install.mjs';
import type { CompareHtmlOptions } from '../../src/vscode/webviews/compare/html.ts';
import { makeNonce } from '../../src/vscode/webviews/html.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const ORIGIN = 'https://runboard.test';
const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf', '.map': 'application/json' };

/** Debian's Chromium (`apt-get install -y chromium`); never a downloaded browser build. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/** VS Code's Dark Modern colors, as VS Code sets them on a webview's <html>. */
export const DARK_MODERN: Record<string, string> = {
  '--vscode-font-family': '"Segoe WPC", "Segoe UI", "Ubuntu", "Droid Sans", "DejaVu Sans", sans-serif',
  '--vscode-font-size': '13px',
  '--vscode-font-weight': 'normal',
  '--vscode-foreground': '#cccccc',
  '--vscode-descriptionForeground': '#9d9d9d',
  '--vscode-errorForeground': '#f85149',
  '--vscode-focusBorder': '#0078d4',
  '--vscode-editor-background': '#1f1f1f',
  '--vscode-editor-selectionBackground': '#264f78',
  '--vscode-sideBar-background': '#181818',
  '--vscode-panel-background': '#181818',
  '--vscode-panel-border': '#2b2b2b',
  '--vscode-editorWidget-background': '#202020',
  '--vscode-editorWidget-border': '#313131',
  '--vscode-editorGroupHeader-tabsBackground': '#181818',
  '--vscode-editorHoverWidget-background': '#202020',
  '--vscode-editorHoverWidget-foreground': '#cccccc',
  '--vscode-editorHoverWidget-border': '#454545',
  '--vscode-widget-shadow': 'rgba(0, 0, 0, 0.36)',
  '--vscode-button-background': '#0078d4',
  '--vscode-button-foreground': '#ffffff',
  '--vscode-button-hoverBackground': '#026ec1',
  '--vscode-button-border': 'rgba(255, 255, 255, 0.07)',
  '--vscode-button-separator': 'rgba(255, 255, 255, 0.4)',
  '--vscode-button-secondaryBackground': '#313131',
  '--vscode-button-secondaryForeground': '#cccccc',
  '--vscode-button-secondaryHoverBackground': '#3c3c3c',
  '--vscode-checkbox-background': '#313131',
  '--vscode-checkbox-border': '#3c3c3c',
  '--vscode-checkbox-foreground': '#cccccc',
  '--vscode-settings-dropdownBackground': '#313131',
  '--vscode-settings-dropdownBorder': '#3c3c3c',
  '--vscode-settings-dropdownForeground': '#cccccc',
  '--vscode-settings-dropdownListBorder': '#454545',
  '--vscode-settings-headerBorder': '#2b2b2b',
  '--vscode-list-activeSelectionBackground': '#04395e',
  '--vscode-list-activeSelectionForeground': '#ffffff',
  '--vscode-list-hoverBackground': '#2a2d2e',
  '--vscode-list-hoverForeground': '#cccccc',
  '--vscode-list-focusOutline': '#0078d4',
  '--vscode-list-highlightForeground': '#2aaaff',
  '--vscode-list-focusHighlightForeground': '#2aaaff',
  '--vscode-panelTitle-activeBorder': '#0078d4',
  '--vscode-panelTitle-activeForeground': '#cccccc',
  '--vscode-panelTitle-inactiveForeground': '#9d9d9d',
  '--vscode-badge-background': '#616161',
  '--vscode-badge-foreground': '#f8f8f8',
  '--vscode-textLink-foreground': '#4daafc',
  '--vscode-toolbar-hoverBackground': 'rgba(90, 93, 94, 0.31)',
  '--vscode-icon-foreground': '#cccccc',
  '--vscode-inputValidation-errorBackground': '#5a1d1d',
  '--vscode-inputValidation-errorBorder': '#be1100',
  '--vscode-charts-foreground': '#cccccc',
  '--vscode-charts-lines': 'rgba(204, 204, 204, 0.5)',
  '--vscode-charts-red': '#f14c4c',
  '--vscode-charts-blue': '#3794ff',
  '--vscode-charts-yellow': '#cca700',
  '--vscode-charts-orange': '#d18616',
  '--vscode-charts-green': '#89d185',
  '--vscode-charts-purple': '#b180d7',
};

/** VS Code's Light Modern colors where they differ from Dark Modern, for the light screenshots. */
export const LIGHT_MODERN: Record<string, string> = {
  ...DARK_MODERN,
  '--vscode-foreground': '#3b3b3b',
  '--vscode-descriptionForeground': '#3b3b3b',
  '--vscode-errorForeground': '#f85149',
  '--vscode-focusBorder': '#005fb8',
  '--vscode-editor-background': '#ffffff',
  '--vscode-sideBar-background': '#f8f8f8',
  '--vscode-panel-border': '#e5e5e5',
  '--vscode-editorWidget-background': '#f8f8f8',
  '--vscode-editorWidget-border': '#e5e5e5',
  '--vscode-editorGroupHeader-tabsBackground': '#f8f8f8',
  '--vscode-editorHoverWidget-background': '#f8f8f8',
  '--vscode-editorHoverWidget-foreground': '#3b3b3b',
  '--vscode-editorHoverWidget-border': '#c8c8c8',
  '--vscode-button-background': '#005fb8',
  '--vscode-button-hoverBackground': '#0258a8',
  '--vscode-button-secondaryBackground': '#e5e5e5',
  '--vscode-button-secondaryForeground': '#3b3b3b',
  '--vscode-button-secondaryHoverBackground': '#cccccc',
  '--vscode-checkbox-background': '#f8f8f8',
  '--vscode-checkbox-border': '#cecece',
  '--vscode-checkbox-foreground': '#3b3b3b',
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
  '--vscode-list-activeSelectionBackground': '#e8e8e8',
  '--vscode-list-activeSelectionForeground': '#000000',
  '--vscode-list-hoverBackground': '#f2f2f2',
  '--vscode-icon-foreground': '#3b3b3b',
  '--vscode-inputValidation-errorBackground': '#f2dede',
  '--vscode-inputValidation-errorBorder': '#be1100',
  '--vscode-charts-foreground': '#616161',
  '--vscode-charts-lines': 'rgba(97, 97, 97, 0.5)',
  '--vscode-charts-red': '#e51400',
  '--vscode-charts-blue': '#1a85ff',
  '--vscode-charts-yellow': '#bf8803',
  '--vscode-charts-orange': '#d18616',
  '--vscode-charts-green': '#388a34',
  '--vscode-charts-purple': '#652d90',
};

/**
 * The stub that stands in for VS Code inside the page: plain JS, loaded by nonce before the
 * bundle. `window.__harness` (H) holds the state the page saved, `deliver` (revives typed arrays
 * as VS Code's webview does) and `onPost`, hooks that see each post before Node does. `extra`
 * runs last with H in scope: a harness's own page-side helpers (a benchmark's timings).
 */
function stubScript(theme: Record<string, string>, light: boolean, extra: string): string {
  const kind = light ? 'vscode-light' : 'vscode-dark';
  return `(() => {
  const root = document.documentElement;
  for (const [k, v] of Object.entries(${JSON.stringify(theme)})) root.style.setProperty(k, v);
  document.body.classList.add('${kind}');
  document.body.dataset.vscodeThemeKind = '${kind}';
  const H = (window.__harness = { state: undefined, onPost: [] });
  H.revive = (json, buffers) =>
    JSON.parse(json, (_k, v) => {
      if (v && v.$$vscode_array_buffer_reference$$) {
        const buffer = buffers[v.index];
        if (!v.view) return buffer;
        const Ctor = globalThis[v.view.type];
        return new Ctor(buffer, v.view.byteOffset, v.view.byteLength / Ctor.BYTES_PER_ELEMENT);
      }
      return v;
    });
  H.decode = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer;
  H.dispatch = (data) => window.dispatchEvent(new MessageEvent('message', { data }));
  H.deliver = (json, b64) => H.dispatch(H.revive(json, b64.map(H.decode)));
  window.acquireVsCodeApi = () => ({
    postMessage(message) {
      for (const hook of H.onPost) hook(message);
      window.runboardPageToNode(JSON.stringify(message));
    },
    getState: () => H.state,
    setState: (s) => { H.state = s; return s; },
  });
  ${extra}
})();`;
}

/** VS Code's host-side serialisation of a webview message: typed arrays travel as buffers. */
export function serializeMessage(message: unknown): { json: string; buffers: Uint8Array[] } {
  const buffers: ArrayBufferLike[] = [];
  const json = JSON.stringify(message, (_key, value: unknown) => {
    if (ArrayBuffer.isView(value)) {
      let index = buffers.indexOf(value.buffer);
      if (index < 0) index = buffers.push(value.buffer) - 1;
      return { $$vscode_array_buffer_reference$$: true, index, view: { type: value.constructor.name, byteOffset: value.byteOffset, byteLength: value.byteLength } };
    }
    return value;
  });
  return { json, buffers: buffers.map((b) => new Uint8Array(b)) };
}

export const base64 = (buffers: Uint8Array[]): string[] => buffers.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64'));

export interface WebviewPage<Posted extends { type: string }, Delivered> {
  page: Page;
  context: BrowserContext;
  /** Messages the webview posted, in order. */
  sent: Posted[];
  /** Everything the page reported wrong: console errors, uncaught exceptions, CSP violations and the `error`s it posted. Tests expect none. */
  problems: string[];
  /** The CSP violations among them. */
  cspViolations: string[];
  /** Sends host messages (serialised like VS Code) in order. */
  deliver(message: Delivered): Promise<void>;
  /** The first posted message (already posted, or the next) of a type that matches. */
  waitForMessage<T extends Posted['type']>(type: T, predicate?: (m: Extract<Posted, { type: T }>) => boolean, timeoutMs?: number): Promise<Extract<Posted, { type: T }>>;
  close(): Promise<void>;
}

export interface WebviewPageOptions {
  /** The bundle's name in dist/webview: `monitor` serves monitor.js and monitor.css. */
  bundle: string;
  /** The panel's own page (its CSP, its stylesheets); the stub comes in as a prelude script. */
  html(o: CompareHtmlOptions): string;
  width: number;
  height: number;
  light?: boolean;
  /** Page-side JS run at the end of the stub (see `stubScript`). */
  stubExtra?: string;
}

/** Opens a webview bundle in a fresh page and waits for its `ready`. */
export async function openWebviewPage<Posted extends { type: string }, Delivered>(browser: Browser, o: WebviewPageOptions): Promise<WebviewPage<Posted, Delivered>> {
  const context = await browser.newContext({ viewport: { width: o.width, height: o.height }, deviceScaleFactor: 1 });
  const html = o.html({
    cspSource: ORIGIN,
    nonce: makeNonce(),
    scriptUri: `${ORIGIN}/dist/webview/${o.bundle}.js`,
    styleUri: `${ORIGIN}/dist/webview/${o.bundle}.css`,
    codiconsUri: `${ORIGIN}/dist/webview/codicons/codicon.css`,
    preludeUris: [`${ORIGIN}/harness/stub.js`],
  });
  const stub = stubScript(o.light ? LIGHT_MODERN : DARK_MODERN, o.light ?? false, o.stubExtra ?? '');
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
  const sent: Posted[] = [];
  const waiters = new Set<(m: Posted) => void>();
  const problems: string[] = [];
  const cspViolations: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(m.text());
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  page.on('pageerror', (e) => problems.push(String(e)));
  await page.exposeBinding('runboardPageToNode', (_source, json: string) => {
    const message = JSON.parse(json) as Posted;
    sent.push(message);
    if (message.type === 'error') problems.push((message as { message?: unknown }).message as string);
    for (const w of [...waiters]) w(message);
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`));
    // An injected handler that ran would leave a trace here.
    const w = window as unknown as { alerted: string[]; alert: (text?: string) => void };
    w.alerted = [];
    w.alert = (text?: string) => void w.alerted.push(String(text));
  });

  const waitForMessage: WebviewPage<Posted, Delivered>['waitForMessage'] = (type, predicate = () => true, timeoutMs = 15_000) => {
    type M = Extract<Posted, { type: typeof type }>;
    const matches = (m: Posted): m is M => m.type === type && predicate(m as M);
    const found = sent.find(matches);
    if (found) return Promise.resolve(found);
    return new Promise<M>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(w);
        reject(new Error(`No ${type} message within ${timeoutMs} ms`));
      }, timeoutMs);
      const w = (m: Posted) => {
        if (!matches(m)) return;
        clearTimeout(timer);
        waiters.delete(w);
        resolve(m);
      };
      waiters.add(w);
    });
  };
  await page.goto(`${ORIGIN}/index.html`);
  await waitForMessage('ready' as Posted['type']);

  let chain = Promise.resolve();
  return {
    page,
    context,
    sent,
    problems,
    cspViolations,
    waitForMessage,
    deliver(message) {
      const { json, buffers } = serializeMessage(message);
      const encoded = base64(buffers);
      chain = chain.then(() =>
        page.evaluate(([j, b]) => (window as unknown as { __harness: { deliver(j: string, b: string[]): void } }).__harness.deliver(j, b), [json, encoded] as const),
      );
      return chain;
    },
    close: () => context.close(),
  };
}

/**
 * Hands every message the page posts (the ones it already posted first, such as its `ready`) to a
 * host-side handler, the way the VS Code panel forwards them to its presenter; returns the stop.
 */
export function forwardPosts<Posted extends { type: string }>(wp: WebviewPage<Posted, unknown>, handle: (message: Posted) => unknown): () => void {
  let seen = 0;
  const pump = () => {
    while (seen < wp.sent.length) void handle(wp.sent[seen++]!);
  };
  pump();
  const timer = setInterval(pump, 5);
  // A failed test never stops it: it must not keep the test process alive.
  timer.unref();
  return () => clearInterval(timer);
}
