// esbuild bundles CSS imported from TypeScript into a sibling .css file (dist/webview/runsTable.css).
declare module '*.css';
