import type { Evaluation, RenderedReport, RunEvaluations, ViewState } from '../../src/shared/compareProtocol.ts';
import { clear, formatValue, h } from './dom.ts';
import { rgba, type Rgb, type Theme } from './theme.ts';

export interface EvaluationHost {
  view(): ViewState;
  theme(): Theme;
  colorOf(runId: number): Rgb;
  nameOf(runId: number): string;
  setNormalize(on: boolean): void;
  report(report: RenderedReport): void;
}

const pct = (x: number) => (Number.isFinite(x) ? `${(x * 100).toFixed(1)}%` : '—');

/** Confusion matrices and per-class scores of each run, side by side. */
export class EvaluationView {
  readonly root: HTMLElement;
  private readonly host: EvaluationHost;
  private readonly body: HTMLElement;
  private readonly normalize: HTMLInputElement;
  private data: RunEvaluations[] | null = null;

  constructor(host: EvaluationHost) {
    this.host = host;
    this.normalize = h('input', { type: 'checkbox' });
    this.normalize.addEventListener('change', () => host.setNormalize(this.normalize.checked));
    this.body = h('div', { class: 'evaluation-grid' }, h('p', { class: 'caption', text: 'Loading evaluations…' }));
    this.root = h(
      'div',
      { class: 'evaluation-view' },
      h('div', { class: 'toolbar' }, h('label', { class: 'check' }, this.normalize, ' Normalize rows (recall per true class)')),
      this.body,
    );
  }

  get loaded(): boolean {
    return this.data !== null;
  }

  /** A new selection: the next visit to the tab asks again. */
  reset(): void {
    this.data = null;
    clear(this.body);
  }

  setData(runs: RunEvaluations[]): void {
    this.data = runs;
    this.render();
  }

  render(): void {
    const started = performance.now();
    const view = this.host.view();
    this.normalize.checked = view.normalizeConfusion;
    clear(this.body);
    if (!this.data) {
      this.body.append(h('p', { class: 'caption', text: 'Loading evaluations…' }));
      return;
    }
    const series: RenderedReport['series'] = [];
    for (const run of this.data) {
      for (const file of run.files) {
        const card = h('section', { class: `eval-card${run.runId === view.highlight ? ' highlighted' : ''}`, 'aria-label': `${this.host.nameOf(run.runId)} ${file.path}` });
        const swatch = h('span', { class: 'swatch', 'aria-hidden': 'true' });
        swatch.style.backgroundColor = rgba(this.host.colorOf(run.runId));
        const title = file.evaluation?.title;
        card.append(
          h('header', {}, swatch, h('h3', { text: this.host.nameOf(run.runId) }), h('span', { class: 'muted', text: title ? `${title} · ${file.path}` : file.path })),
        );
        if (file.error || !file.evaluation) {
          card.append(h('p', { class: 'error-text', text: file.error ?? 'Unreadable evaluation' }));
        } else {
          card.append(...this.renderEvaluation(file.evaluation, view.normalizeConfusion));
          series.push({ runId: run.runId, group: null, points: file.evaluation.labels.length });
        }
        this.body.append(card);
      }
    }
    if (!this.body.firstChild) {
      this.body.append(
        h('p', { class: 'caption', text: 'No evaluation artifacts. A run shows here when it logs an evaluation.json (labels, confusion_matrix, per_class) as an artifact.' }),
      );
    }
    this.host.report({ view: 'evaluation', metric: null, requestId: null, series, ms: performance.now() - started });
  }

  private renderEvaluation(e: Evaluation, normalize: boolean): HTMLElement[] {
    const out: HTMLElement[] = [];
    if (e.accuracy !== null) out.push(h('p', { class: 'accuracy' }, 'Accuracy ', h('strong', { text: pct(e.accuracy) })));
    if (e.confusionMatrix.length) {
      const heat = this.host.theme().heat;
      const table = h('table', { class: 'confusion', 'aria-label': 'Confusion matrix: rows are true labels, columns predicted labels' });
      const head = h('tr', {}, h('th', { class: 'corner', scope: 'col' }, h('span', { text: 'true \\ pred' })));
      for (const label of e.labels) head.append(h('th', { scope: 'col', title: label }, h('span', { text: label })));
      table.append(h('thead', {}, head));
      const body = h('tbody');
      let max = 0;
      const rows = e.confusionMatrix.map((row) => {
        const total = row.reduce((a, b) => a + b, 0);
        const values = normalize ? row.map((v) => (total > 0 ? v / total : 0)) : row;
        for (const v of values) max = Math.max(max, v);
        return values;
      });
      rows.forEach((row, i) => {
        const tr = h('tr', {}, h('th', { scope: 'row', title: e.labels[i] ?? '' }, h('span', { text: e.labels[i] ?? '' })));
        row.forEach((v, j) => {
          const intensity = max > 0 ? v / max : 0;
          const td = h('td', { class: i === j ? 'diagonal' : '', text: normalize ? pct(v) : formatValue(v), title: `true ${e.labels[i]}, predicted ${e.labels[j]}: ${normalize ? pct(v) : v}` });
          td.style.backgroundColor = rgba(heat, 0.08 + 0.8 * intensity);
          if (intensity > 0.55) td.classList.add('strong');
          tr.append(td);
        });
        body.append(tr);
      });
      table.append(body);
      out.push(h('div', { class: 'confusion-scroll' }, table));
    }
    const scores = h('table', { class: 'scores', 'aria-label': 'Per-class precision, recall, F1 and support' });
    scores.append(
      h('thead', {}, h('tr', {}, ...['Class', 'Precision', 'Recall', 'F1', 'Support'].map((t, i) => h('th', { scope: 'col', class: i ? 'numeric' : '', text: t })))),
    );
    const body = h('tbody');
    for (const label of e.labels) {
      const s = Object.hasOwn(e.perClass, label) ? e.perClass[label] : undefined;
      if (!s) continue;
      body.append(
        h(
          'tr',
          {},
          h('th', { scope: 'row', text: label }),
          h('td', { class: 'numeric', text: pct(s.precision) }),
          h('td', { class: 'numeric', text: pct(s.recall) }),
          h('td', { class: 'numeric', text: pct(s.f1) }),
          h('td', { class: 'numeric', text: Number.isFinite(s.support) ? String(s.support) : '—' }),
        ),
      );
    }
    scores.append(body);
    out.push(scores);
    return out;
  }
}
