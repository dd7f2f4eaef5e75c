/**
 * The Compare webview's standalone page (see webviewPage.ts): the real bundle under the panel's
 * CSP, host messages serialised the way VS Code does it. Two ways to drive it:
 *
 * - `connectSession`: the real CompareSession over a real store answers the page (browser tests);
 * - `stageReplay` + `replayInit`: pre-serialised answers, timed in the page (benchmark).
 */
import type { Browser } from 'playwright-core';
import { CompareSession, type ComparePort, type CompareSessionOptions } from '../../src/core/compare/session.ts';
import type { Store } from '../../src/core/store/store.ts';
import type { HostMessage, RenderedReport, WebviewMessage } from '../../src/shared/compareProtocol.ts';
import { compareHtml } from '../../src/vscode/webviews/compare/html.ts';
import { base64, forwardPosts, openWebviewPage, serializeMessage, type WebviewPage } from './webviewPage.ts';

/** The benchmark's replay: staged answers decoded before the clock starts, each series answered a task later (IPC is async). */
const REPLAY_STUB = `
  Object.assign(H, { staged: new Map(), timings: [], t0: 0 });
  H.stage = (key, json, b64) => H.staged.set(key, { json, buffers: b64.map(H.decode) });
  H.replayInit = (keys) => {
    H.t0 = performance.now();
    for (const key of keys) { const s = H.staged.get(key); H.dispatch(H.revive(s.json, s.buffers)); }
  };
  H.onPost.push((message) => {
    if (message.type === 'rendered') H.timings.push({ report: message.report, at: performance.now() - H.t0 });
    const staged = message.type === 'requestSeries' && H.staged.get('series:' + message.query.metric);
    if (staged) setTimeout(() => H.dispatch({ ...H.revive(staged.json, staged.buffers), requestId: message.requestId }), 0);
  });`;

export type ComparePage = WebviewPage<WebviewMessage, HostMessage>;

/** Opens the Compare webview in a fresh page (1440×900 by default) and waits for its `ready`. */
export function openComparePage(browser: Browser, options: { width?: number; height?: number } = {}): Promise<ComparePage> {
  return openWebviewPage(browser, {
    bundle: 'compare',
    html: compareHtml,
    width: options.width ?? 1440,
    height: options.height ?? 900,
    stubExtra: REPLAY_STUB,
  });
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
  const stop = forwardPosts(cp, (m) => session.handle(m));
  const dispose = session.dispose.bind(session);
  session.dispose = () => {
    stop();
    dispose();
  };
  return session;
}

/** Stages pre-serialised messages in the page (decoded there before any timing starts). */
export async function stageReplay(cp: ComparePage, staged: { key: string; message: HostMessage }[]): Promise<void> {
  for (const { key, message } of staged) {
    const { json, buffers } = serializeMessage(message);
    await cp.page.evaluate(([k, j, b]) => (window as unknown as { __harness: { stage(k: string, j: string, b: string[]): void } }).__harness.stage(k, j, b), [key, json, base64(buffers)] as const);
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
