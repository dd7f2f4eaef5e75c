/**
 * The Compare webview's standalone page harness: the real bundle (dist/webview/compare.js) in a
 * plain page under the panel's CSP, with a stub `acquireVsCodeApi` in place of VS Code. Host
 * messages are serialised the way VS Code does it (JSON beside binary buffers for typed arrays)
 * and revived in the page the way the webview does. Two ways to drive it:
 *
 * - `connectSession`: the real CompareSession over a real store answers the page (browser tests);
 * - `stageReplay` + `replayInit`: pre-serialised answers, timed in the page (benchmark).
 *
 * Pages load from https://runboard.test/ through Playwright routes: no server, no network.
 */
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../../scripts/vscode-test/install.mjs';
import { CompareSession, type ComparePort, type CompareSessionOptions } from '../../src/core/compare/session.ts';
import type { Store } from '../../src/core/store/store.ts';
import type { HostMessage, RenderedReport, WebviewMessage } from '../../src/shared/compareProtocol.ts';
import { compareHtml } from '../../src/vscode/webviews/compare/html.ts';
import { makeNonce } from '../../src/vscode/webviews/html.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const ORIGIN = 'https://runboard.test';

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

/**
 * The stub that stands in for VS Code inside the page. Plain JS, loaded by nonce before the
 * bundle. It keeps setState in memory, forwards posts to Node (a Playwright binding), revives
 * typed arrays like VS Code's webview does, and records timings for the benchmark.
 */
function stubScript(theme: Record<string, string>): string {
  return `(() => {
  const root = document.documentElement;
  for (const [k, v] of Object.entries(${JSON.stringify(theme)})) root.style.setProperty(k, v);
  document.body.classList.add('vscode-dark');
  document.body.dataset.vscodeThemeKind = 'vscode-dark';
  const H = (window.__harness = { sent: [], state: undefined, staged: new Map(), timings: [], t0: 0 });
  const revive = (json, buffers) =>
    JSON.parse(json, (_k, v) => {
      if (v && v.$$vscode_array_buffer_reference$$) {
        const buffer = buffers[v.index];
        if (!v.view) return buffer;
        const Ctor = globalThis[v.view.type];
        return new Ctor(buffer, v.view.byteOffset, v.view.byteLength / Ctor.BYTES_PER_ELEMENT);
      }
      return v;
    });
  const decode = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer;
  const dispatch = (data) => window.dispatchEvent(new MessageEvent('message', { data }));
  H.deliver = (json, b64) => dispatch(revive(json, b64.map(decode)));
  H.stage = (key, json, b64) => H.staged.set(key, { json, buffers: b64.map(decode) });
  H.replayInit = (keys) => {
    H.t0 = performance.now();
    for (const key of keys) { const s = H.staged.get(key); dispatch(revive(s.json, s.buffers)); }
  };
  window.acquireVsCodeApi = () => ({
    postMessage(message) {
      H.sent.push(message);
      if (message.type === 'rendered') H.timings.push({ report: message.report, at: performance.now() - H.t0 });
      if (window.runboardHost) window.runboardHost(JSON.stringify(message));
      const staged = message.type === 'requestSeries' && H.staged.get('series:' + message.query.metric);
      // Replay: the pre-serialised answer, revived as the webview would, a task later (IPC is async).
      if (staged) setTimeout(() => dispatch({ ...revive(staged.json, staged.buffers), requestId: message.requestId }), 0);
    },
    getState: () => H.state,
    setState: (s) => { H.state = s; return s; },
  });
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

const b64 = (buffers: Uint8Array[]) => buffers.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64'));

const TYPES: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf', '.map': 'application/json', '.html': 'text/html' };

export interface ComparePage {
  page: Page;
  context: BrowserContext;
  /** Messages the webview posted, in order. */
  sent: WebviewMessage[];
  /** CSP violations reported by the page. */
  cspViolations: string[];
  consoleErrors: string[];
  /** Sends host messages (serialised like VS Code) in order. */
  deliver(message: HostMessage): Promise<void>;
  waitForMessage<T extends WebviewMessage['type']>(type: T, predicate?: (m: Extract<WebviewMessage, { type: T }>) => boolean, timeoutMs?: number): Promise<Extract<WebviewMessage, { type: T }>>;
  close(): Promise<void>;
}

/** Opens the Compare webview in a fresh page (1440×900 by default) and waits for its `ready`. */
export async function openComparePage(browser: Browser, options: { width?: number; height?: number; theme?: Record<string, string> } = {}): Promise<ComparePage> {
  const context = await browser.newContext({ viewport: { width: options.width ?? 1440, height: options.height ?? 900 }, deviceScaleFactor: 1 });
  const nonce = makeNonce();
  const html = compareHtml({
    cspSource: ORIGIN,
    nonce,
    scriptUri: `${ORIGIN}/dist/webview/compare.js`,
    styleUri: `${ORIGIN}/dist/webview/compare.css`,
    codiconsUri: `${ORIGIN}/dist/webview/codicons/codicon.css`,
    preludeUris: [`${ORIGIN}/harness/stub.js`],
  });
  const stub = stubScript(options.theme ?? DARK_MODERN);
  await context.route(`${ORIGIN}/**`, async (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path === '/' || path === '/index.html') return route.fulfill({ body: html, contentType: 'text/html' });
    if (path === '/harness/stub.js') return route.fulfill({ body: stub, contentType: 'text/javascript' });
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
  const waiters = new Set<(m: WebviewMessage) => void>();
  const cspViolations: string[] = [];
  const consoleErrors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') consoleErrors.push(m.text());
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  await page.exposeBinding('runboardPageToNode', (_source, json: string) => {
    const message = JSON.parse(json) as WebviewMessage;
    sent.push(message);
    for (const w of [...waiters]) w(message);
  });
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => console.error(`Content Security Policy violation: ${e.violatedDirective} ${e.blockedURI}`));
  });
  const ready = new Promise<void>((resolve) => {
    const w = (m: WebviewMessage) => {
      if (m.type === 'ready') {
        waiters.delete(w);
        resolve();
      }
    };
    waiters.add(w);
  });
  // Every post also reaches Node; the session (if any) listens through `runboardHost`.
  await page.addInitScript(() => {
    const w = window as unknown as { runboardHost?: (json: string) => void; runboardPageToNode: (json: string) => void; alert: (text?: string) => void; alerted?: string[] };
    w.runboardHost = (json: string) => void w.runboardPageToNode(json);
    // An injected handler that ran would leave a trace here.
    w.alerted = [];
    w.alert = (text?: string) => void w.alerted!.push(String(text));
  });
  await page.goto(`${ORIGIN}/index.html`);
  await ready;

  let chain = Promise.resolve();
  return {
    page,
    context,
    sent,
    cspViolations,
    consoleErrors,
    deliver(message) {
      const { json, buffers } = serializeMessage(message);
      const encoded = b64(buffers);
      chain = chain.then(() =>
        page.evaluate(([j, b]) => (window as unknown as { __harness: { deliver(j: string, b: string[]): void } }).__harness.deliver(j, b), [json, encoded] as const),
      );
      return chain;
    },
    waitForMessage(type, predicate = () => true, timeoutMs = 15_000) {
      type M = Extract<WebviewMessage, { type: typeof type }>;
      const found = sent.find((m): m is M => m.type === type && predicate(m as M));
      if (found) return Promise.resolve(found);
      return new Promise<M>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`No ${type} message within ${timeoutMs} ms`));
        }, timeoutMs);
        const w = (m: WebviewMessage) => {
          if (m.type === type && predicate(m as M)) {
            clearTimeout(timer);
            waiters.delete(w);
            resolve(m as M);
          }
        };
        waiters.add(w);
      });
    },
    close: () => context.close(),
  };
}

/**
 * Wires a real CompareSession over `store` to the page: the page's posts reach the session, the
 * session's messages reach the page. The `ready` the page already sent is replayed.
 */
export function connectSession(cp: ComparePage, store: Store, runIds: number[], port: Partial<ComparePort> = {}, options: CompareSessionOptions = {}): CompareSession {
  const session = new CompareSession(store, runIds, {
    post: (m) => void cp.deliver(m).catch(() => {}),
    save: port.save ?? (async () => undefined),
    showCodeDiff: port.showCodeDiff ?? (async () => {}),
    highlighted: port.highlighted,
    log: port.log ?? (() => {}),
  }, options);
  let seen = 0;
  const pump = () => {
    while (seen < cp.sent.length) void session.handle(cp.sent[seen++]!);
  };
  pump();
  const timer = setInterval(pump, 5);
  const dispose = session.dispose.bind(session);
  session.dispose = () => {
    clearInterval(timer);
    dispose();
  };
  return session;
}

/** Stages pre-serialised messages in the page (decoded there before any timing starts). */
export async function stageReplay(cp: ComparePage, staged: { key: string; message: HostMessage }[]): Promise<void> {
  for (const { key, message } of staged) {
    const { json, buffers } = serializeMessage(message);
    await cp.page.evaluate(([k, j, b]) => (window as unknown as { __harness: { stage(k: string, j: string, b: string[]): void } }).__harness.stage(k, j, b), [key, json, b64(buffers)] as const);
  }
}

/** Dispatches staged messages in order and resolves with the first chart render, timed in the page from the init message. */
export async function replayInit(cp: ComparePage, keys: string[], metric: string, timeoutMs = 30_000): Promise<{ ms: number; report: RenderedReport }> {
  await cp.page.evaluate((k) => (window as unknown as { __harness: { replayInit(k: string[]): void } }).__harness.replayInit(k), keys);
  const handle = await cp.page.waitForFunction(
    (m) => (window as unknown as { __harness: { timings: { report: RenderedReport; at: number }[] } }).__harness.timings.find((t) => t.report.view === 'chart' && t.report.metric === m) ?? null,
    metric,
    { timeout: timeoutMs, polling: 5 },
  );
  const timing = (await handle.jsonValue()) as { report: RenderedReport; at: number };
  return { ms: timing.at, report: timing.report };
}
