// The page shell the webview panels share. No `vscode` import: pages are built from plain strings,
// tested on plain Node, and the browser test harness builds the same page.
import { randomBytes } from 'node:crypto';

export function makeNonce(): string {
  return randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

/**
 * Nothing inline: scripts by nonce only; styles, fonts and images from the bundle folder
 * (`cspSource`). Pages set element styles through the CSSOM (element.style) and SVG geometry
 * through attributes, and vscode-elements (Lit) styles its shadow roots with constructable
 * stylesheets (adoptedStyleSheets): CSP governs none of these, so no 'unsafe-inline' is needed.
 * Verified in Chromium (no violation reported) and in VS Code.
 */
export function contentSecurityPolicy(cspSource: string, nonce: string, options: { dataImages?: boolean } = {}): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource}`,
    `img-src ${cspSource}${options.dataImages ? ' data:' : ''}`,
    `font-src ${cspSource}`,
  ].join('; ');
}

export interface PageOptions {
  title: string;
  csp: string;
  nonce: string;
  /** Loaded in order; each entry an href, or an href with the element id a library looks for. */
  stylesheets: readonly (string | { href: string; id: string })[];
  /** Loaded in order, each with the nonce. */
  scripts: readonly string[];
  /** The element the page's script renders into (`#app`, busy until the first render). */
  root: 'div' | 'main';
}

const attr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function webviewPage(o: PageOptions): string {
  const styles = o.stylesheets
    .map((s) => (typeof s === 'string' ? `<link rel="stylesheet" href="${attr(s)}" />` : `<link rel="stylesheet" id="${attr(s.id)}" href="${attr(s.href)}" />`))
    .join('\n    ');
  const scripts = o.scripts.map((src) => `<script nonce="${attr(o.nonce)}" src="${attr(src)}"></script>`).join('\n    ');
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8" />
    <meta http-equiv="Content-Security-Policy" content="${attr(o.csp)}" />
    <meta name="viewport" content="width=device-width, initial-scale=1.0" />
    ${styles}
    <title>${attr(o.title)}</title>
  </head>
  <body>
    <${o.root} id="app" aria-busy="true"></${o.root}>
    ${scripts}
  </body>
</html>
`;
}
