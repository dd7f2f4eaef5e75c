// Types for what TypeScript imports from install.mjs (the browser test harness).
export const CHROMIUM: string;
export const CHROMIUM_ARGS: string[];
