import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UserError } from '../../src/core/errors.ts';
import type { MetricPoint } from '../../src/core/store/types.ts';
import {
  compileRegex,
  LineReader,
  MAX_LINE_LENGTH,
  parseLenientJson,
  parseLine,
  parseNumber,
  type ParsedLine,
} from '../../src/core/tracking/lineParser.ts';

const valuesOf = (parsed: ParsedLine): Record<string, number> => {
  assert.equal(parsed.kind, 'metrics', `expected metrics, got ${JSON.stringify(parsed)}`);
  return Object.fromEntries((parsed as { values: Map<string, number> }).values);
};
const kindOf = (line: string): string => parseLine(line).kind;
const read = (reader: LineReader, lines: string[]): string[] => {
  const out: MetricPoint[] = [];
  for (const line of lines) reader.read(line, 0, out);
  return out.map((p) => `${p.key}@${p.step}=${p.value}`);
};

describe('parseNumber', () => {
  it('reads decimal, exponent and nan/inf spellings, and nothing else', () => {
    assert.equal(parseNumber('5e-05'), 5e-5);
    assert.equal(parseNumber('-.5'), -0.5);
    assert.equal(parseNumber('3.'), 3);
    assert.ok(Number.isNaN(parseNumber('nan')!));
    assert.ok(Number.isNaN(parseNumber('NaN')!));
    assert.equal(parseNumber('inf'), Infinity);
    assert.equal(parseNumber('-Infinity'), -Infinity);
    for (const text of ['', ' ', '0x10', '1e', '1.2.3', '12ms', 'infinite', 'true']) assert.equal(parseNumber(text), undefined, text);
  });
});

describe('parseLine', () => {
  it('reads JSON objects, with NaN/Infinity as Python json writes them, flattening nested objects', () => {
    assert.deepEqual(valuesOf(parseLine('{"loss": 0.23, "step": 10}')), { loss: 0.23, step: 10 });
    const special = valuesOf(parseLine('{"a": NaN, "b": Infinity, "c": -Infinity, "name": "x", "ok": true, "list": [1]}'));
    assert.ok(Number.isNaN(special.a!));
    assert.equal(special.b, Infinity);
    assert.equal(special.c, -Infinity);
    assert.deepEqual(Object.keys(special), ['a', 'b', 'c']);
    assert.deepEqual(valuesOf(parseLine('{"train": {"loss": 1, "x": {"y": 2}}}')), { 'train/loss': 1, 'train/x/y': 2 });
  });

  it('reads Python dicts as Hugging Face Trainer prints them', () => {
    assert.deepEqual(valuesOf(parseLine("{'loss': 0.23, 'learning_rate': 5e-05, 'epoch': 0.5}")), { loss: 0.23, learning_rate: 5e-5, epoch: 0.5 });
    const values = valuesOf(
      parseLine("{'eval_loss': nan, 'a': inf, 'b': -inf, 'c': np.float64(0.25), 'd': tensor(0.5, device='cuda:0'), 's': 'it''s', 'n': None, 't': (1, 2)}".replace("''", "\\'")),
    );
    assert.ok(Number.isNaN(values.eval_loss!));
    assert.equal(values.a, Infinity);
    assert.equal(values.b, -Infinity);
    assert.equal(values.c, 0.25);
    assert.equal(values.d, 0.5);
    assert.deepEqual(Object.keys(values), ['eval_loss', 'a', 'b', 'c', 'd']);
  });

  it('reads key=value lines, ignoring non-numeric values; the step stated in text is not a value', () => {
    const parsed = parseLine('step=10 loss=0.23 acc=0.91');
    assert.deepEqual(valuesOf(parsed), { loss: 0.23, acc: 0.91 });
    assert.equal((parsed as { step?: number }).step, 10);
    // A unit after the number is read (the issue's `123.45ms`); text values are not metrics.
    assert.deepEqual(valuesOf(parseLine('step=10, loss=nan | phase=train time=12ms')), { loss: NaN, time: 12 });
  });

  it('reads Keras lines, with or without the final progress bar, ANSI colours and \\r redraws', () => {
    assert.deepEqual(valuesOf(parseLine('loss: 0.2345 - accuracy: 0.9123')), { loss: 0.2345, accuracy: 0.9123 });
    assert.deepEqual(valuesOf(parseLine('100/100 [==============================] - 1s 2ms/step - loss: 0.23 - accuracy: 0.9')), { loss: 0.23, accuracy: 0.9 });
    assert.deepEqual(
      valuesOf(parseLine('\x1b[1m100/100\x1b[0m \x1b[32m━━━━━━━━━━\x1b[0m \x1b[1m1s\x1b[0m 2ms/step - accuracy: 0.8 - loss: 0.5 - val_loss: 0.6')),
      { accuracy: 0.8, loss: 0.5, val_loss: 0.6 },
    );
    assert.deepEqual(valuesOf(parseLine('10/100 [==>...] - ETA: 3s - loss: 0.9\r100/100 [=====] - 1s - loss: 0.25\r')), { loss: 0.25 });
    // Intermediate bars are running averages, not records.
    assert.equal(kindOf('32/100 [=====>......] - ETA: 0s - loss: 0.5123'), 'text');
  });

  it('leaves ordinary log text alone', () => {
    for (const line of ['', 'Epoch 1/10', 'Loading data...', 'Hello world: 5 apples', 'device=cuda', 'Saving to path=/tmp/x', '{"status": "ok"}', 'step=3', '[1, 2]', 'Warning - disk: full']) {
      assert.equal(kindOf(line), 'text', line);
    }
  });

  it('calls lines malformed only when they were meant as metrics and cannot be read', () => {
    for (const line of ['{"loss": 0.2', '{"loss": 0.2}}', '{bad}', "{'a', 'b'", 'loss=0.2.3', 'step=1 loss=1e', '{' + '['.repeat(10_000)]) {
      assert.equal(kindOf(line), 'malformed', line);
    }
    assert.equal(kindOf('{"a": 1}' + ' '.repeat(MAX_LINE_LENGTH)), 'malformed');
  });
});

describe('user regex', () => {
  it('maps named groups to metrics and takes precedence over the built-in formats', () => {
    const regex = compileRegex(/iter (?<step>\d+): loss (?<loss>\S+) acc=(?<acc>\S+)/);
    assert.deepEqual(valuesOf(regex.parse('iter 7: loss 0.5 acc=0.25')!), { step: 7, loss: 0.5, acc: 0.25 });
    assert.equal(regex.parse('unrelated line'), undefined);
    assert.equal(regex.parse('iter 7: loss oops acc=1')!.kind, 'malformed');
    const reader = new LineReader({ regex: 'iter (?<step>\\d+): loss (?<loss>\\S+)' });
    assert.deepEqual(read(reader, ['iter 3: loss 0.5', 'x=1']), ['loss@3=0.5', 'x@0=1']);
  });

  it('reads every key/value pair when the groups are named key and value', () => {
    const regex = compileRegex('(?<key>[a-z_]+)->(?<value>\\S+)');
    assert.deepEqual(valuesOf(regex.parse('loss->0.5 acc->0.75')!), { loss: 0.5, acc: 0.75 });
  });

  it('refuses patterns without named groups or that do not compile', () => {
    assert.throws(() => compileRegex('loss (\\S+)'), UserError);
    assert.throws(() => compileRegex('(?<loss>'), UserError);
  });
});

describe('steps', () => {
  it('uses step, then global_step, then iteration, never storing them as metrics', () => {
    assert.deepEqual(read(new LineReader(), ['{"global_step": 5, "iteration": 9, "loss": 1}', 'iteration=12 loss=2', 'step=20 global_step=3 loss=3']), [
      'loss@5=1',
      'loss@12=2',
      'loss@20=3',
    ]);
  });

  it('counts per key when no step is given, and moves counters past explicit steps', () => {
    assert.deepEqual(read(new LineReader(), ['loss=1', 'loss=2 acc=0.5', 'loss=3', 'step=10 acc=0.6', 'acc=0.7', 'loss=4']), [
      'loss@0=1',
      'loss@1=2',
      'acc@0=0.5',
      'loss@2=3',
      'acc@10=0.6',
      'acc@11=0.7',
      'loss@3=4',
    ]);
  });

  it('uses an integer epoch as the step and keeps epoch as a metric', () => {
    assert.deepEqual(read(new LineReader(), ['{"epoch": 3, "loss": 0.5}', '{"epoch": 4, "loss": 0.4}']), ['epoch@3=3', 'loss@3=0.5', 'epoch@4=4', 'loss@4=0.4']);
  });

  it('stops using epoch as a step once it has been fractional (Hugging Face)', () => {
    const lines = ["{'loss': 1.0, 'epoch': 0.5}", "{'loss': 0.9, 'epoch': 1.0}", "{'eval_loss': 0.8, 'epoch': 1.0}", "{'loss': 0.7, 'epoch': 1.5}"];
    assert.deepEqual(read(new LineReader(), lines), [
      'loss@0=1',
      'epoch@0=0.5',
      'loss@1=0.9',
      'epoch@1=1',
      'eval_loss@0=0.8',
      'epoch@2=1',
      'loss@2=0.7',
      'epoch@3=1.5',
    ]);
  });

  it('reports lines with only step keys as text', () => {
    const out: MetricPoint[] = [];
    assert.equal(new LineReader().read('{"step": 3}', 0, out), 'text');
    assert.equal(new LineReader().read('step=3 loss=1', 0, out), 'metrics');
    assert.equal(out.length, 1);
  });
});

describe('parseLenientJson', () => {
  it('reads JSON and Python literals, and returns undefined for garbage', () => {
    assert.deepEqual(parseLenientJson('{"a": [1, {"b": null}]}'), { a: [1, { b: null }] });
    // Python dicts come back as prototype-less objects (a `__proto__` key stays a plain key).
    const dict = parseLenientJson("{'a': True, 'b': (1, 2,), 'c': 'x\\'y', '__proto__': {'d': 1}}") as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(dict), null);
    assert.deepEqual({ ...dict }, { a: true, b: [1, 2], c: "x'y", ['__proto__']: dict['__proto__'] });
    assert.deepEqual(Object.keys(dict), ['a', 'b', 'c', '__proto__']);
    assert.equal(parseLenientJson('{"a": 1'), undefined);
    assert.equal(parseLenientJson('\u0000\u00ff{'), undefined);
  });
});
