import type { ViewState, WebviewMessage } from '../../src/shared/compareProtocol.ts';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

/** The one handle on the host: acquireVsCodeApi may be called only once per page. */
const api: VsCodeApi = acquireVsCodeApi();

export function post(message: WebviewMessage): void {
  api.postMessage(message);
}

export function savedView(): ViewState | null {
  const state = api.getState();
  return state && typeof state === 'object' ? (state as ViewState) : null;
}

export function saveView(view: ViewState): void {
  api.setState(view);
}
