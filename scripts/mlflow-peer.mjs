// `npm run test:mlflow-peer`: the real MLflow client against `runboard serve` (test/peer/*.test.ts,
// one per area). Where the peer is not set up it says so in one line and exits 0.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { peerMissing } from '../test/peer/peer.ts';

const missing = peerMissing();
if (missing) {
  console.log(`mlflow-peer: skipped: ${missing}`);
  process.exit(0);
}
const dir = join(import.meta.dirname, '..', 'test', 'peer');
const files = readdirSync(dir).filter((f) => f.endsWith('.test.ts')).map((f) => join(dir, f));
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', ...files], { stdio: 'inherit' });
process.exit(result.status ?? 1);
