// The Compare panel's page. No `vscode` import: the browser test harness builds the same page.
import { contentSecurityPolicy, webviewPage } from '../html.ts';

export interface CompareHtmlOptions {
  /** `webview.cspSource`: where the bundle, styles and fonts may come from. */
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
  codiconsUri: string;
  /** Scripts to run before the bundle, with the same nonce (the test harness's acquireVsCodeApi stub). */
  preludeUris?: string[];
}

export function compareHtml(o: CompareHtmlOptions): string {
  return webviewPage({
    title: 'Compare runs',
    csp: contentSecurityPolicy(o.cspSource, o.nonce, { dataImages: true }),
    nonce: o.nonce,
    // vscode-elements finds the codicon font by this id.
    stylesheets: [{ href: o.codiconsUri, id: 'vscode-codicon-stylesheet' }, o.styleUri],
    scripts: [...(o.preludeUris ?? []), o.scriptUri],
    root: 'div',
  });
}
