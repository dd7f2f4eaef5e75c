// `npm run test:sync-peer`: test/peer/syncPeer.ts where the MLflow peer is set up; where it is not,
// one line saying so, and exit 0.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { peerMissing } from './peer.ts';

const missing = peerMissing();
if (missing) {
  console.log(`sync-peer: skipped: ${missing}`);
  process.exit(0);
}
const result = spawnSync(process.execPath, ['--test', '--test-concurrency=1', join(import.meta.dirname, 'syncPeer.ts')], { stdio: 'inherit' });
process.exit(result.status ?? 1);
