// esbuild bundles CSS imported from TypeScript into a sibling .css file (dist/webview/compare.css).
declare module '*.css';
