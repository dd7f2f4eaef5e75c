// `npm run bench`: every figure is measured in this one process, with its baseline measured
// alongside it; the last line is one JSON object for tools to read. `--quick` for a short run.
import { benchCapture } from './capture.bench.ts';
import { benchCompare } from './compare.bench.ts';
import { benchFilter } from './filter.bench.ts';
import { benchRefresh } from './refresh.bench.ts';
import { benchLineReader } from './lineReader.bench.ts';
import { benchMlflow } from './mlflow.bench.ts';
import { benchMonitor } from './monitor.bench.ts';
import { benchStore } from './store.bench.ts';
import { benchSync } from './sync.bench.ts';
import { benchTree } from './tree.bench.ts';

const quick = process.argv.includes('--quick');
const log = (line: string) => console.log(line);

const results: Record<string, unknown> = {};
Object.assign(results, benchStore(log, { runs: quick ? 10 : 100, lengths: quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000] }));
const capture = await benchCapture();
log(`capture: ${capture.captureThroughputPointsPerSec.toLocaleString('en-US')} points/s from a Python process; Python client overhead ${capture.clientOverheadPct}% on a 10,000-steps/s loop`);
Object.assign(results, capture);
const reader = benchLineReader();
log(
  `line reader: recall ${reader.readerRecall}, precision ${reader.readerPrecision} (${reader.readerFormatsExact} of ${reader.readerFormats} formats exact, ${reader.readerOrdinaryLines} ordinary lines); ${reader.readerLinesPerSec.toLocaleString('en-US')} corpus lines/s vs ${reader.readerJsonLinesPerSec.toLocaleString('en-US')} JSON lines/s`,
);
Object.assign(results, reader);
Object.assign(results, benchTree(log));
Object.assign(results, benchFilter(log));
Object.assign(results, await benchRefresh(log, quick ? 2 : 5));
Object.assign(results, await benchCompare(log, quick ? { runs: 20, steps: 100_000 } : {}));
Object.assign(results, await benchMlflow(log, quick));
Object.assign(results, await benchMonitor(log, quick ? { windows: 200, requests: 400 } : {}));
Object.assign(results, await (await import('./runsTable.bench.ts')).benchRunsTable(log, quick ? { runs: 2000 } : {}));
Object.assign(results, await benchSync(log, quick));
console.log(JSON.stringify(results));
