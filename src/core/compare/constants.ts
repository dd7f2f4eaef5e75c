// The compare panel's limits and axes: the core enforces them, and src/shared/compareProtocol.ts
// passes them on to the webview. They live here because the core may not import values from
// src/shared, while the protocol may import from the core (this file imports nothing, so the
// webview bundle stays free of Node code).

/** What the x axis shows. `relative` is seconds since the run started, `wall` epoch ms. */
export const X_AXES = ['step', 'relative', 'wall', 'epoch'] as const;

export const DEFAULT_POINTS = 2000;
/** Never more than this many points per series, whatever the webview asks. */
export const MAX_POINTS = 4000;
