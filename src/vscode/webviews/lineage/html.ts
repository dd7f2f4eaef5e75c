// The Lineage panel's page. No `vscode` import (plain strings; tested on plain Node).
import { contentSecurityPolicy, webviewPage } from '../html.ts';

export interface LineageHtmlOptions {
  /** `webview.cspSource`: where the bundle and its stylesheet come from. */
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
}

export function lineageCsp(cspSource: string, nonce: string): string {
  return contentSecurityPolicy(cspSource, nonce);
}

export function lineageHtml(o: LineageHtmlOptions): string {
  return webviewPage({ title: 'Lineage', csp: lineageCsp(o.cspSource, o.nonce), nonce: o.nonce, stylesheets: [o.styleUri], scripts: [o.scriptUri], root: 'main' });
}
