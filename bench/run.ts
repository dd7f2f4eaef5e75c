// `npm run bench`: every figure is measured in this one process, with its baseline measured
// alongside it; the last line is one JSON object for tools to read. `--quick` for a short run;
// `--only capture,reader` runs just those parts (the JSON line then holds just their figures).
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

const parts: Record<string, () => Promise<object> | object> = {
  store: () => benchStore(log, { runs: quick ? 10 : 100, lengths: quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000] }),
  capture: async () => {
    const capture = await benchCapture();
    log(`capture: ${capture.captureThroughputPointsPerSec.toLocaleString('en-US')} points/s from a Python process; Python client overhead ${capture.clientOverheadPct}% on a 10,000-steps/s loop`);
    return capture;
  },
  reader: () => {
    const reader = benchLineReader();
    log(
      `line reader: recall ${reader.readerRecall}, precision ${reader.readerPrecision} (${reader.readerFormatsExact} of ${reader.readerFormats} formats exact, ${reader.readerOrdinaryLines} ordinary lines); ${reader.readerLinesPerSec.toLocaleString('en-US')} corpus lines/s vs ${reader.readerJsonLinesPerSec.toLocaleString('en-US')} JSON lines/s`,
    );
    return reader;
  },
  tree: () => benchTree(log),
  filter: () => benchFilter(log),
  refresh: () => benchRefresh(log, quick ? 2 : 5),
  compare: () => benchCompare(log, quick ? { runs: 20, steps: 100_000 } : {}),
  mlflow: () => benchMlflow(log, quick),
  monitor: () => benchMonitor(log, quick ? { windows: 200, requests: 400 } : {}),
  runsTable: async () => (await import('./runsTable.bench.ts')).benchRunsTable(log, quick ? { runs: 2000 } : {}),
  sync: () => benchSync(log, quick),
};

const onlyAt = process.argv.indexOf('--only');
const only = onlyAt < 0 ? Object.keys(parts) : (process.argv[onlyAt + 1] ?? '').split(',');
const unknown = only.filter((name) => !(name in parts));
if (unknown.length > 0) {
  console.error(`bench: no part named ${unknown.join(', ')}; the parts are ${Object.keys(parts).join(', ')}`);
  process.exit(2);
}

const results: Record<string, unknown> = {};
for (const name of Object.keys(parts)) if (only.includes(name)) Object.assign(results, await parts[name]!());
console.log(JSON.stringify(results));
