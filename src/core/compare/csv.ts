import type { CellValue } from '../../shared/compareProtocol.ts';

/**
 * RFC 4180 CSV. Text that a spreadsheet would run as a formula (=, +, -, @ at the start) gets a
 * leading apostrophe, so a run named `=HYPERLINK(…)` stays text; numbers are written as numbers.
 */
export function toCsv(rows: readonly (readonly CellValue[])[]): string {
  return rows.map((row) => row.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

function csvCell(value: CellValue): string {
  if (value === null) return '';
  if (typeof value === 'number') return Number.isFinite(value) ? String(value) : Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
  let text = value;
  if (/^[=+\-@\t\r]/.test(text) && !/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
