import type { MetricPoint } from '../src/core/store/types.ts';
import { LineReader } from '../src/core/tracking/lineParser.ts';
import { ORDINARY_LINES, readFormat, readOrdinary, REAL_FORMATS, type Point } from '../test/fixtures/lines/corpus.ts';

export interface ReaderBench {
  /** Expected points (key, step, value) of the real formats that the reader produced. */
  readerRecall: number;
  /** Produced points that were expected, over every point produced (ordinary lines included). */
  readerPrecision: number;
  readerFormatsExact: number;
  readerFormats: number;
  readerOrdinaryLines: number;
  /** Corpus lines (real formats and ordinary text) through a LineReader. */
  readerLinesPerSec: number;
  /** JSON lines through the same reader, its fast path: the baseline for the line above. */
  readerJsonLinesPerSec: number;
}

const keyOf = (p: Point) => JSON.stringify(p);

/** Recall and precision on test/fixtures/lines, and how fast the reader goes through it. */
export function benchLineReader(): ReaderBench {
  let expected = 0;
  let produced = 0;
  let matched = 0;
  let exact = 0;
  for (const format of REAL_FORMATS) {
    const got = readFormat(format);
    const want = new Map<string, number>();
    for (const p of format.series) want.set(keyOf(p), (want.get(keyOf(p)) ?? 0) + 1);
    for (const p of got) {
      const left = want.get(keyOf(p)) ?? 0;
      if (left > 0) {
        matched++;
        want.set(keyOf(p), left - 1);
      }
    }
    expected += format.series.length;
    produced += got.length;
    if (JSON.stringify(got) === JSON.stringify(format.series)) exact++;
  }
  for (const { line } of ORDINARY_LINES) produced += readOrdinary(line).length;

  const corpus = [...REAL_FORMATS.flatMap((f) => f.lines ?? f.stream!.split('\n')), ...ORDINARY_LINES.map((o) => o.line)];
  const json = Array.from({ length: corpus.length }, (_, i) => `{"step": ${i}, "loss": ${1 / (i + 1)}, "acc": ${i * 1e-6}}`);
  return {
    readerRecall: round(matched / expected),
    readerPrecision: round(matched / produced),
    readerFormatsExact: exact,
    readerFormats: REAL_FORMATS.length,
    readerOrdinaryLines: ORDINARY_LINES.length,
    ...linesPerSec(corpus, json),
  };
}

/**
 * Lines per second through fresh readers: passes over the corpus and over as many JSON lines
 * alternate for about a second, so that load from other processes weighs on both alike.
 */
function linesPerSec(corpus: string[], json: string[]): { readerLinesPerSec: number; readerJsonLinesPerSec: number } {
  const out: MetricPoint[] = [];
  const pass = (lines: string[]) => {
    const started = performance.now();
    const reader = new LineReader();
    for (const line of lines) reader.read(line, 0, out);
    out.length = 0;
    return performance.now() - started;
  };
  for (let i = 0; i < 50; i++) {
    pass(corpus);
    pass(json);
  }
  let corpusMs = 0;
  let jsonMs = 0;
  let passes = 0;
  for (const started = performance.now(); performance.now() - started < 1000; passes++) {
    corpusMs += pass(corpus);
    jsonMs += pass(json);
  }
  const perSec = (lines: number, ms: number) => Math.round((passes * lines) / (ms / 1000));
  return { readerLinesPerSec: perSec(corpus.length, corpusMs), readerJsonLinesPerSec: perSec(json.length, jsonMs) };
}

const round = (x: number) => Math.round(x * 1000) / 1000;
