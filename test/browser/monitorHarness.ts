/**
 * The Monitor webview's standalone page (see webviewPage.ts): the real bundle under the panel's
 * CSP. The test plays the host: it delivers MonitorPresenter's messages.
 */
import type { Browser } from 'playwright-core';
import type { HostMessage, WebviewMessage } from '../../src/shared/monitorProtocol.ts';
import { monitorHtml } from '../../src/vscode/webviews/monitor/html.ts';
import { openWebviewPage, type WebviewPage } from './webviewPage.ts';

export type MonitorPage = WebviewPage<WebviewMessage, HostMessage>;

/** Opens the Monitor webview in a fresh page (1280×900 by default) and waits for its `ready`. */
export function openMonitorPage(browser: Browser, options: { width?: number; height?: number; light?: boolean } = {}): Promise<MonitorPage> {
  return openWebviewPage(browser, { bundle: 'monitor', html: monitorHtml, width: options.width ?? 1280, height: options.height ?? 900, light: options.light });
}
