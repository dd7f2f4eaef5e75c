// The Monitor panel's page. No `vscode` import: the browser test harness builds the same page.
import type { CompareHtmlOptions } from '../compare/html.ts';
import { contentSecurityPolicy, webviewPage } from '../html.ts';

/** The same assets as the compare page: a bundle, its stylesheet and the codicon font. */
export type MonitorHtmlOptions = CompareHtmlOptions;

export function monitorHtml(o: MonitorHtmlOptions): string {
  return webviewPage({
    title: 'Monitor',
    csp: contentSecurityPolicy(o.cspSource, o.nonce),
    nonce: o.nonce,
    stylesheets: [o.codiconsUri, o.styleUri],
    scripts: [...(o.preludeUris ?? []), o.scriptUri],
    root: 'main',
  });
}
