import type { LineageViewState, WebviewMessage } from '../../src/shared/lineageProtocol.ts';

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

/** Kept by VS Code with the panel, so it can be restored after a reload. */
export function saveView(view: LineageViewState): void {
  api.setState(view);
}
