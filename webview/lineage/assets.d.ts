// esbuild bundles CSS imported from TypeScript into a sibling .css file (dist/webview/lineage.css).
declare module '*.css';
