/**
 * The Runs Table webview's standalone page (see webviewPage.ts): the real bundle under the
 * panel's CSP. `connectPresenter` puts the real RunsTablePresenter over a real store behind the
 * page (browser tests); `timeFirstPaint` replays a pre-serialised message timed in the page
 * (benchmark).
 */
import type { Browser } from 'playwright-core';
import type { Store } from '../../src/core/store/store.ts';
import type { HostMessage, RenderedReport, WebviewMessage } from '../../src/shared/runsTableProtocol.ts';
import { runsTableHtml } from '../../src/vscode/webviews/runsTable/html.ts';
import { RunsTablePresenter, type RunsTablePort } from '../../src/vscode/webviews/runsTable/presenter.ts';
import { forwardPosts, openWebviewPage, type WebviewPage } from './webviewPage.ts';

/** The benchmark's clock: it starts before the staged message is parsed, as VS Code's webview parses it. */
const TIMING_STUB = `
  Object.assign(H, { staged: undefined, timings: [], t0: 0 });
  H.stage = (json) => { H.staged = json; };
  H.replay = () => { H.timings = []; H.t0 = performance.now(); H.dispatch(JSON.parse(H.staged)); };
  H.onPost.push((message) => {
    if (message.type !== 'rendered') return;
    const at = performance.now() - H.t0;
    // Painted: the frame after the render.
    requestAnimationFrame(() => H.timings.push({ report: message.report, at, painted: performance.now() - H.t0 }));
  });`;

export interface RunsTablePage extends WebviewPage<WebviewMessage, HostMessage> {
  /** The next `rendered` report after `action` (or the last one that matches). */
  rendered(action: () => Promise<unknown>, predicate?: (r: RenderedReport) => boolean): Promise<RenderedReport>;
}

/** Opens the Runs Table webview in a fresh page (1440×900 by default) and waits for its `ready`. */
export async function openRunsTablePage(browser: Browser, options: { width?: number; height?: number; light?: boolean } = {}): Promise<RunsTablePage> {
  const wp = await openWebviewPage<WebviewMessage, HostMessage>(browser, {
    bundle: 'runsTable',
    html: runsTableHtml,
    width: options.width ?? 1440,
    height: options.height ?? 900,
    light: options.light,
    stubExtra: TIMING_STUB,
  });
  return Object.assign(wp, {
    async rendered(action: () => Promise<unknown>, predicate: (r: RenderedReport) => boolean = () => true) {
      const from = wp.sent.length;
      await action();
      const next = () => wp.sent.slice(from).findLast((m): m is Extract<WebviewMessage, { type: 'rendered' }> => m.type === 'rendered' && predicate(m.report));
      for (const end = Date.now() + 15_000; Date.now() < end; await new Promise((r) => setTimeout(r, 10))) {
        const m = next();
        if (m) return m.report;
      }
      throw new Error('No matching rendered report within 15 s');
    },
  });
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
  return Object.assign(presenter, { stop: forwardPosts(tp, (m) => presenter.handle(m)) });
}

/** Replays a staged `runs` message in the page; resolves with the first render's times from the message (before parsing) to the render and to the next frame. */
export async function timeFirstPaint(tp: RunsTablePage, message: HostMessage): Promise<{ renderMs: number; paintMs: number; report: RenderedReport }> {
  await tp.page.evaluate((j) => (window as unknown as { __harness: { stage(j: string): void } }).__harness.stage(j), JSON.stringify(message));
  await tp.page.evaluate(() => (window as unknown as { __harness: { timings: unknown[]; replay(): void } }).__harness.replay());
  const handle = await tp.page.waitForFunction(() => (window as unknown as { __harness: { timings: unknown[] } }).__harness.timings.at(-1) ?? null, undefined, { polling: 5 });
  const t = (await handle.jsonValue()) as { report: RenderedReport; at: number; painted: number };
  return { renderMs: t.at, paintMs: t.painted, report: t.report };
}
