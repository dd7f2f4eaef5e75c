import { parseNumber } from './lineParser.ts';
import { isReleasedDrawing, splitProgressBar, visibleText } from './progressBars.ts';
import { isMetricName, normaliseName } from './textReader.ts';

const CELL_GAP = /\s{2,}|\t/;
const HEADER_CELL = /^(?:[A-Za-z_][\w()@%./-]*(?: [A-Za-z_][\w()@%./-]*)?|#)$/;
const STEP_COLUMNS = new Set(['#', 'step', 'iter', 'iteration', 'global_step']);
const EPOCH_COLUMNS = new Set(['epoch', 'e']);
/** Cells that are not metrics: clock or elapsed times (`00:12`, `0.50s`, `1.2m`) and sizes (`2.51G`). */
const SKIPPED_CELL = /^(?:\d+:[\d:.]+|[\d.]+(?:ms|s|m|h)|[\d.]+[KMGT]i?B?)$/;
const EPOCH_CELL = /^(\d+)\/\d+$/;

/**
 * Tables printed a row at a time under a header: fastai (`epoch  train_loss  valid_loss …`),
 * spaCy (`E  #  LOSS TOK2VEC …`), ultralytics YOLO (`Epoch  GPU_mem  box_loss …`, also as a
 * progress bar's description), scikit-learn's gradient boosting (`Iter  Train Loss  Remaining Time`).
 * A header has three or more columns, two spaces apart, one of them a step or a metric name;
 * a row has as many cells, all numbers except a leading label (YOLO's `all`), times and sizes.
 */
/** YOLO's `Box(P … mAP50-95)` spans cells: `Box(P` → `box_p`, `mAP50-95)` → `map50-95`. */
const unbalanced = (cell: string) => cell.split('(').length !== cell.split(')').length;

export class TableReader {
  private columns: string[] | undefined;

  read(raw: string): { values: Map<string, number>; step?: number } | undefined {
    const visible = visibleText(raw);
    const bar = splitProgressBar(visible);
    const text = bar ? bar.desc.replace(/:\s*$/, '').trim() : visible;
    if (text === '') return undefined;
    const header = text.split(CELL_GAP);
    if (header.length >= 3 && header.every((cell) => HEADER_CELL.test(cell))) {
      const names = header.map((cell) => normaliseName([unbalanced(cell) ? cell.replace('(', '_').replace(')', '') : cell]));
      if (names.some((name) => STEP_COLUMNS.has(name) || EPOCH_COLUMNS.has(name) || isMetricName(name))) this.columns = names;
      return undefined;
    }
    if (!this.columns || (bar && !bar.complete && !isReleasedDrawing(raw))) return undefined;
    const cells = text.split(/\s+/);
    if (cells.length !== this.columns.length) return undefined;
    const values = new Map<string, number>();
    let step: number | undefined;
    let epoch: number | undefined;
    for (let i = 0; i < cells.length; i++) {
      const cell = cells[i]!;
      const name = this.columns[i]!;
      const epochOf = EPOCH_COLUMNS.has(name) ? EPOCH_CELL.exec(cell) : null;
      const value = epochOf ? Number(epochOf[1]) : parseNumber(cell);
      if (value === undefined) {
        if (SKIPPED_CELL.test(cell) || (i === 0 && /^[A-Za-z]/.test(cell))) continue;
        return undefined;
      }
      if (STEP_COLUMNS.has(name)) step = value;
      else if (EPOCH_COLUMNS.has(name)) epoch = value;
      else if (!/^(?:remaining|elapsed|eta)/.test(name)) values.set(name, value);
    }
    return values.size > 0 ? { values, step: step ?? epoch } : undefined;
  }
}
