// The Runs Table's page. No `vscode` import: the browser test harness builds the same page.
import type { CompareHtmlOptions } from '../compare/html.ts';
import { contentSecurityPolicy, webviewPage } from '../html.ts';

/** The same assets as the Compare panel's page: a bundle, its stylesheet and the codicons. */
export function runsTableHtml(o: CompareHtmlOptions): string {
  return webviewPage({
    title: 'Runs',
    csp: contentSecurityPolicy(o.cspSource, o.nonce),
    nonce: o.nonce,
    // vscode-elements finds the codicon font by this id.
    stylesheets: [{ href: o.codiconsUri, id: 'vscode-codicon-stylesheet' }, o.styleUri],
    scripts: [...(o.preludeUris ?? []), o.scriptUri],
    root: 'div',
  });
}
