#!/usr/bin/env node
// better-sqlite3 13 needs Node ≥ 22 (on Node 20 it crashes with a segfault), so check before
// anything loads it.
const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  process.stderr.write(`runboard: needs Node.js 22 or newer (this is ${process.version}). Run it with Node 22+, or via npx runboard inside the project.\n`);
  process.exit(2);
}

void import('./cli/main.ts').then(async ({ main }) => {
  process.exitCode = await main(process.argv.slice(2), {
    out: (text) => process.stdout.write(`${text}\n`),
    err: (text) => process.stderr.write(`${text}\n`),
  });
});
