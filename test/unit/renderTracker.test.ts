// The render tracker every webview presenter keeps: what the page drew last, and what it reported wrong.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RenderTracker } from '../../src/vscode/webviews/renderTracker.ts';

interface Report {
  rows: number;
}

test('a wait resolves with the next matching report; the last one answers at once; forget makes it wait again', async () => {
  const tracker = new RenderTracker<Report>('Runs table', () => {});
  assert.equal(tracker.lastRendered, null);
  const waiting = tracker.waitForRendered((r) => r.rows === 2);
  tracker.receive({ type: 'rendered', report: { rows: 1 } });
  tracker.receive({ type: 'rendered', report: { rows: 2 } });
  assert.deepEqual(await waiting, { rows: 2 });
  assert.deepEqual(await tracker.waitForRendered(), { rows: 2 }, 'the last report answers at once');

  tracker.forget();
  assert.equal(tracker.lastRendered, null);
  let answered: Report | undefined;
  const next = tracker.waitForRendered().then((r) => (answered = r));
  await Promise.resolve();
  assert.equal(answered, undefined, 'a forgotten report does not answer');
  tracker.receive({ type: 'rendered', report: { rows: 3 } });
  assert.deepEqual(await next, { rows: 3 });
  tracker.dispose();
});

test('a wait that sees no matching report fails naming the page', async () => {
  const tracker = new RenderTracker<Report>('Lineage', () => {});
  tracker.receive({ type: 'rendered', report: { rows: 1 } });
  await assert.rejects(tracker.waitForRendered((r) => r.rows > 1, 1), /^Error: The Lineage webview did not render within 1 ms$/);
  tracker.dispose();
});

test('page errors are kept in order and logged as warnings naming the page', () => {
  const warned: string[] = [];
  const tracker = new RenderTracker<Report>('Monitor', (message) => warned.push(message));
  tracker.receive({ type: 'error', message: 'CSP blocked inline (script-src-elem)' });
  tracker.receive({ type: 'error', message: 'boom (monitor.js:1)' });
  assert.deepEqual(tracker.problems, ['CSP blocked inline (script-src-elem)', 'boom (monitor.js:1)']);
  assert.deepEqual(warned, ['Monitor webview: CSP blocked inline (script-src-elem)', 'Monitor webview: boom (monitor.js:1)']);
  tracker.dispose();
});
