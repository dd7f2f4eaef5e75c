// esbuild bundles CSS imported from TypeScript into a sibling .css file (dist/webview/monitor.css).
declare module '*.css';
