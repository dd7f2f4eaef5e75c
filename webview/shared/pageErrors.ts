/**
 * The page's side of the host's render tracker (src/vscode/webviews/renderTracker.ts): what went
 * wrong in the page reaches the host, which logs it, and is shown where the reader looks.
 */

/** Posts the page's uncaught script errors and the CSP's refusals to the host (tests expect none). */
export function reportPageErrors(post: (message: { type: 'error'; message: string }) => void): void {
  window.addEventListener('error', (e) => post({ type: 'error', message: `${e.message} (${e.filename}:${e.lineno})` }));
  document.addEventListener('securitypolicyviolation', (e) => post({ type: 'error', message: `CSP blocked ${e.blockedURI || 'inline'} (${e.violatedDirective})` }));
}

/** Shows the host's error at the top of the page, in place of an earlier one; the page is no longer busy. */
export function showPageError(app: HTMLElement, message: string): void {
  app.setAttribute('aria-busy', 'false');
  const box = document.createElement('p');
  box.className = 'error';
  box.setAttribute('role', 'alert');
  // A message may quote user input: text, never markup.
  box.textContent = message;
  const existing = app.querySelector('.error');
  if (existing) existing.replaceWith(box);
  else app.prepend(box);
}
