// The Lineage panel's page. No `vscode` import (plain strings; tested on plain Node).
import { randomBytes } from 'node:crypto';

export interface LineageHtmlOptions {
  /** `webview.cspSource`: where the bundle and its stylesheet come from. */
  cspSource: string;
  nonce: string;
  scriptUri: string;
  styleUri: string;
}

export function makeNonce(): string {
  return randomBytes(18).toString('base64').replace(/[^A-Za-z0-9]/g, '');
}

/**
 * Nothing inline: the script only by nonce, the stylesheet from the bundle folder. The page sets
 * element styles through the CSSOM and SVG geometry through attributes, neither of which needs
 * 'unsafe-inline'.
 */
export function lineageCsp(cspSource: string, nonce: string): string {
  return ["default-src 'none'", `script-src 'nonce-${nonce}'`, `style-src ${cspSource}`, `font-src ${cspSource}`, `img-src ${cspSource}`].join('; ');
}

const attr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function lineageHtml(o: LineageHtmlOptions): string {
  return `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="UTF-8" />
    <meta http-equiv="Content-Security-Policy" content="${attr(lineageCsp(o.cspSource, o.nonce))}" />
    <meta name="viewport" content="width=device-width, initial-scale=1.0" />
    <link rel="stylesheet" href="${attr(o.styleUri)}" />
    <title>Lineage</title>
  </head>
  <body>
    <main id="app" aria-busy="true"></main>
    <script nonce="${attr(o.nonce)}" src="${attr(o.scriptUri)}"></script>
  </body>
</html>
`;
}
