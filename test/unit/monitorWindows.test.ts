// The model server's monitoring windows close by time as well as by rows
// (src/python/runboard_server/monitoring.py, `window_seconds`): driven by a clock the test sets,
// so no real second passes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { pythonDir } from '../../src/core/paths.ts';
import { readRows, readWindows } from '../../src/core/monitor/files.ts';
import { tempDir } from './helpers.ts';
import { SYSTEM_PYTHON } from './registryFixtures.ts';

/** Runs `steps` (Python lines) against a Monitor in `dir` whose clock reads `now[0]`; prints what `steps` prints. */
function withMonitor(dir: string, steps: string): string {
  const code = `
import json
from runboard_server import monitoring
now = [1_000_000]
monitor = monitoring.Monitor(${JSON.stringify(dir)}, reference=(["a", "b"], [[float(i), float(i % 7)] for i in range(200)]),
                             window_rows=1000, window_seconds=60.0, predict=lambda rows: [0] * len(rows), clock=lambda: now[0])
def serve(count):
    monitor.record_rows([[1.0, 2.0]] * count, [0] * count, None)
    monitor.record_request(3.0, True)
def closed():
    return sum(1 for _ in open(${JSON.stringify(dir)} + "/windows.jsonl"))
${steps}
monitor.close()
`;
  const out = spawnSync(SYSTEM_PYTHON, ['-c', code], { encoding: 'utf8', env: { ...process.env, PYTHONPATH: pythonDir() } });
  assert.equal(out.status, 0, out.stderr);
  return out.stdout;
}

test('a window with traffic closes once it is window_seconds old, not before; an idle window never closes by time', () => {
  const dir = tempDir();
  const printed = withMonitor(
    dir,
    `
serve(3)
now[0] += 59_999
monitor.tick()
before = closed()
now[0] += 1
monitor.tick()
after = closed()
now[0] += 600_000
monitor.tick()
idle = closed()
serve(2)
now[0] += 60_000
monitor.tick()
print(json.dumps([before, after, idle, closed()]))
`,
  );
  assert.deepEqual(JSON.parse(printed), [0, 1, 1, 2], '59.999 s: open; 60 s: closed; an empty window stays open however long');
  const windows = readWindows(dir);
  assert.deepEqual(
    windows.map((w) => [w.index, w.from, w.to, w.rows, w.requests, w.firstId, w.lastId]),
    [
      [0, 1_000_000, 1_060_000, 3, 1, 1, 3],
      // The next window opened when the first closed, and spans the idle time before its traffic.
      [1, 1_060_000, 1_720_000, 2, 1, 4, 5],
    ],
  );
  assert.deepEqual(readRows(dir).map((r) => [r.id, r.t]), [[1, 1_000_000], [2, 1_000_000], [3, 1_000_000], [4, 1_660_000], [5, 1_660_000]], 'rows are stamped by the same clock');
});

test('rows close a window before its time does; the time of the next counts from that close', () => {
  const dir = tempDir();
  const printed = withMonitor(
    dir,
    `
serve(999)
now[0] += 30_000
serve(1)
full = closed()
serve(1)
now[0] += 59_999
monitor.tick()
early = closed()
now[0] += 1
monitor.tick()
print(json.dumps([full, early, closed()]))
`,
  );
  assert.deepEqual(JSON.parse(printed), [1, 1, 2]);
  assert.deepEqual(readWindows(dir).map((w) => [w.from, w.to, w.rows]), [[1_000_000, 1_030_000, 1000], [1_030_000, 1_090_000, 1]]);
});
