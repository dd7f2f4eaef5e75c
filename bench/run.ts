// `npm run bench`: every figure is measured in this one process against a baseline measured
// alongside it; the last line is one JSON object for tools to read.
import { benchStore } from './store.bench.ts';

const quick = process.argv.includes('--quick');
const log = (line: string) => console.log(line);

const results: Record<string, unknown> = {};
Object.assign(results, benchStore(log, { runs: quick ? 10 : 100, lengths: quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000] }));
console.log(JSON.stringify(results));
