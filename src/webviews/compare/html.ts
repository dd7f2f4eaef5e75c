// The Compare panel's page. No `vscode` import: the browser test harness builds the same page.
import { randomBytes } from 'node:crypto';

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

export function makeNonce(): string {
  return randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

/**
 * No inline script or style: scripts by nonce only, styles and fonts from the bundle folder.
 * vscode-elements (Lit) styles its shadow roots with constructable stylesheets
 * (adoptedStyleSheets), which `style-src` does not govern, and the webview sets element styles
 * through the CSSOM only (element.style, which CSP does not govern either): no 'unsafe-inline'
 * is needed. Verified with this exact policy in Chromium (no violation reported) and in VS Code.
 */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource}`,
    `img-src ${cspSource} data:`,
    `font-src ${cspSource}`,
  ].join('; ');
}

const attr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function compareHtml(o: CompareHtmlOptions): string {
  const scripts = [...(o.preludeUris ?? []), o.scriptUri].map((src) => `<script nonce="${attr(o.nonce)}" src="${attr(src)}"></script>`).join('\n    ');
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8" />
    <meta http-equiv="Content-Security-Policy" content="${attr(contentSecurityPolicy(o.cspSource, o.nonce))}" />
    <meta name="viewport" content="width=device-width, initial-scale=1.0" />
    <link rel="stylesheet" id="vscode-codicon-stylesheet" href="${attr(o.codiconsUri)}" />
    <link rel="stylesheet" href="${attr(o.styleUri)}" />
    <title>Compare runs</title>
  </head>
  <body>
    <div id="app" aria-busy="true"></div>
    ${scripts}
  </body>
</html>
`;
}
