interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

/** The one handle on the host: acquireVsCodeApi may be called only once per page. */
const api: VsCodeApi = acquireVsCodeApi();

/** A page's line to its host, typed by that panel's protocol. */
export interface HostChannel<Message, View> {
  post(message: Message): void;
  /** What the page saved last (null when nothing), kept by VS Code so the panel can be restored after a reload. */
  savedView(): View | null;
  saveView(view: View): void;
}

export function hostChannel<Message, View>(): HostChannel<Message, View> {
  return {
    post: (message) => api.postMessage(message),
    savedView: () => {
      const state = api.getState();
      return state && typeof state === 'object' ? (state as View) : null;
    },
    saveView: (view) => api.setState(view),
  };
}
