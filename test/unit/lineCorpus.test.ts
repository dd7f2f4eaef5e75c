import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineReader } from '../../src/core/tracking/lineParser.ts';
import { ORDINARY_LINES, readFormat, readOrdinary, REAL_FORMATS } from '../fixtures/lines/corpus.ts';

describe('line corpus: what real training code prints', () => {
  it('has at least 40 real formats and 40 ordinary lines', () => {
    assert.ok(REAL_FORMATS.length >= 40, `${REAL_FORMATS.length} formats`);
    assert.ok(ORDINARY_LINES.length >= 40, `${ORDINARY_LINES.length} ordinary lines`);
  });

  for (const format of REAL_FORMATS) {
    it(`reads exactly the series of ${format.source}`, () => {
      assert.deepEqual(readFormat(format), format.series);
    });
  }

  it('reads no metric from ordinary output', () => {
    const read = ORDINARY_LINES.map(({ source, line }) => ({ source, line, points: readOrdinary(line) })).filter((r) => r.points.length > 0);
    assert.deepEqual(read, []);
  });

  it('reads nothing when every reader is switched off', () => {
    const off = { json: false, progress: false, pairs: false, table: false };
    for (const format of REAL_FORMATS) assert.deepEqual(readFormat(format, new LineReader({ readers: off })), [], format.source);
  });
});
