import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors.ts';
import { evaluateGate, parseGate } from '../gates.ts';
import { DEFAULT_THRESHOLDS, parseMonitorSection } from './thresholds.ts';
import { loadProfiles } from '../launch/profiles.ts';
import type { MetricSummary } from '../store/types.ts';
import type { Store } from '../store/store.ts';
import { workspaceOf } from '../workspace.ts';
import { addRequest, addRow, addWindow, emptyAggregate, labelKey, type Aggregate } from './aggregate.ts';
import { latencyOfBucket, readFeedback, readProfile, readRows, readWindows, type FeatureProfile, type FeedbackRecord, type MonitorProfile, type NumericAggregate, type CategoricalAggregate, type ServedRow, type WindowRecord } from './files.ts';
import type {
  DriftReport,
  FeatureDrift,
  FeatureQuality,
  GateOutcome,
  GateReport,
  Histogram,
  History,
  HistoryPoint,
  MonitorOptions,
  MonitorReport,
  MonitorThresholds,
  PerformanceReport,
  TrafficStats,
} from './report.ts';
import { readRecords } from './requestLog.ts';
import { chiSquare, holm, jensenShannon, ks, psi } from './stats.ts';

export const DEFAULT_HISTORY_POINTS = 200;

/** The deployment's monitoring folder, when its server keeps one. */
export function monitorDirOf(config: Record<string, unknown>): string | undefined {
  return typeof config.monitorDir === 'string' ? config.monitorDir : undefined;
}

/**
 * The monitoring report of a deployment: drift, data quality, live performance and traffic of a
 * window of served rows, with the history over all kept windows. Reads only.
 *
 * The window is the last `windowRows` rows, or the rows since `since`, else every row kept. The
 * rows of the window still open on the server are taken one by one from its ring, closed windows
 * as their aggregates: a window reaching further back than the open one is rounded up to whole
 * server windows (`window.rows` says how many rows it holds).
 */
export function monitorDeployment(store: Store, deploymentId: number | string, options: MonitorOptions = {}): MonitorReport {
  const record = Number.isInteger(Number(deploymentId)) ? store.deployments.get(Number(deploymentId)) : undefined;
  if (!record) throw new UserError(`No deployment "${deploymentId}". List them with: runboard deployments`);
  const config = JSON.parse(record.config) as Record<string, unknown>;
  const dir = monitorDirOf(config);
  const { thresholds, source } = thresholdsFor(store, record.modelVersionId, options);
  const profile = dir ? readProfile(dir) : null;
  const windows = dir ? readWindows(dir) : [];
  const lastClosed = windows.at(-1);
  const openRows = dir ? readRows(dir, lastClosed?.lastId ?? 0) : [];
  const log = typeof config.requestLog === 'string' ? config.requestLog : undefined;
  const openRequests = log ? readRecords(log).records.filter((r) => r.path === '/predict' && r.window !== undefined && r.window > (lastClosed?.index ?? -1)) : [];
  const feedback = dir ? latestLabels(readFeedback(dir)) : new Map<number, FeedbackRecord>();

  const selection = select(windows, openRows, options);
  const current = emptyAggregate(profile);
  for (const w of selection.windows) addWindow(current, w);
  for (const row of selection.rows) addRow(current, profile, row);
  for (const r of openRequests) if (options.since === undefined || r.time >= options.since) addRequest(current, r.time, r.latency_ms, r.status < 400);

  const inWindow = (id: number) => selection.ranges.some(([a, b]) => id >= a && id <= b);
  const labeled = [...feedback.values()].filter((f) => inWindow(f.id));
  const drift = profile && current.features ? driftOf(profile, current, thresholds) : null;
  const performance = profile && labeled.length ? performanceOf(profile.task, labeled) : null;
  const notes: string[] = [];
  if (!dir) notes.push('This deployment keeps no monitoring data (it was not served by the local model server with monitoring on).');
  else if (!profile) notes.push(`No reference yet: the first rows served become the baseline (${openRows.length} served so far).`);
  if (selection.rounded) notes.push('The window reaches past the rows kept one by one, so it is rounded to whole server windows.');

  return {
    deployment: record.id,
    model: record.model,
    version: record.version,
    generatedAt: Date.now(),
    window: { rows: current.rows, requests: current.requests, from: current.from, to: current.to },
    traffic: trafficOf(current),
    reference: dir ? referenceOf(profile, openRows.length) : null,
    drift,
    quality: profile && current.features ? qualityOf(profile, current) : [],
    performance,
    gates: gatesOf(thresholds, source, drift, performance),
    history: historyOf(profile, windows, openRows, openRequests, feedback, options.historyPoints ?? DEFAULT_HISTORY_POINTS),
    histograms: profile && current.features ? profile.features.map((f, j) => histogramOf(f, current.features![j]!)) : [],
    prediction: predictionHistogram(profile, current),
    notes,
  };
}

interface Selection {
  windows: WindowRecord[];
  rows: ServedRow[];
  /** Row id ranges in the window, for the labels. */
  ranges: [number, number][];
  rounded: boolean;
}

function select(windows: readonly WindowRecord[], openRows: readonly ServedRow[], options: MonitorOptions): Selection {
  let rows = options.since === undefined ? [...openRows] : openRows.filter((r) => r.t >= options.since!);
  let chosen = options.since === undefined ? [...windows] : windows.filter((w) => w.from >= options.since!);
  let rounded = false;
  if (options.windowRows !== undefined) {
    if (rows.length >= options.windowRows) {
      rows = rows.slice(rows.length - options.windowRows);
      chosen = [];
    } else {
      const kept: WindowRecord[] = [];
      let total = rows.length;
      for (let i = chosen.length - 1; i >= 0 && total < options.windowRows; i--) {
        kept.unshift(chosen[i]!);
        total += chosen[i]!.rows;
      }
      rounded = kept.length > 0 && total > options.windowRows;
      chosen = kept;
    }
  }
  const ranges: [number, number][] = chosen.filter((w) => w.firstId !== null).map((w) => [w.firstId!, w.lastId!]);
  if (rows.length) ranges.push([rows[0]!.id, rows.at(-1)!.id]);
  return { windows: chosen, rows, ranges, rounded };
}

function referenceOf(profile: MonitorProfile | null, servedSoFar: number): MonitorReport['reference'] {
  if (!profile) return { source: 'baseline', rows: servedSoFar, ready: false, baselineRows: null, features: [] };
  return { source: profile.source, rows: profile.rows, ready: true, baselineRows: profile.baselineRows, features: profile.features.map((f) => f.name) };
}

function trafficOf(agg: Aggregate): TrafficStats {
  const buckets = [...agg.latency.entries()].sort((a, b) => a[0] - b[0]);
  const total = buckets.reduce((n, [, c]) => n + c, 0);
  const at = (p: number): number | null => {
    if (total === 0) return null;
    const rank = Math.max(1, Math.ceil((p / 100) * total));
    let seen = 0;
    for (const [bucket, count] of buckets) {
      seen += count;
      if (seen >= rank) return Math.round(latencyOfBucket(bucket) * 1000) / 1000;
    }
    return null;
  };
  return { requests: agg.requests, errors: agg.errors, errorRate: agg.requests ? agg.errors / agg.requests : 0, p50Ms: at(50), p95Ms: at(95) };
}

/** A numeric feature's fine-bin counts summed onto its decile bins (the deciles are among the fine edges). */
function coarseCounts(f: { edges: number[]; coarse: number[] }, fine: readonly number[]): number[] {
  const out = new Array<number>(f.coarse.length + 1).fill(0);
  let c = 0;
  for (let i = 0; i < fine.length; i++) {
    // Fine bin i starts at edges[i - 1]; it belongs to the coarse bin that starts at or before that edge.
    if (i > 0) while (c < f.coarse.length && f.coarse[c]! <= f.edges[i - 1]!) c++;
    out[c]! += fine[i]!;
  }
  return out;
}

/** Reference and current counts of a categorical feature over its categories plus one bin for unseen ones. */
function categoryCounts(f: { categories: string[]; reference: number[] }, counts: Record<string, number>): { reference: number[]; current: number[] } {
  const known = new Set(f.categories);
  const unseen = Object.entries(counts).reduce((n, [k, v]) => (known.has(k) ? n : n + v), 0);
  return { reference: [...f.reference, 0], current: [...f.categories.map((c) => counts[c] ?? 0), unseen] };
}

function featurePsi(f: FeatureProfile, a: NumericAggregate | CategoricalAggregate): number | null {
  if (f.kind === 'numeric') return psi(coarseCounts(f, f.reference), coarseCounts(f, (a as NumericAggregate)[5]));
  const c = categoryCounts(f, (a as CategoricalAggregate)[3]);
  return psi(c.reference, c.current);
}

function driftOf(profile: MonitorProfile, agg: Aggregate, t: MonitorThresholds): DriftReport {
  const tested = profile.features.map((f, j) => {
    const a = agg.features![j]!;
    if (f.kind === 'numeric') {
      const test = ks(f.reference, (a as NumericAggregate)[5]);
      return { f, psi: featurePsi(f, a), ks: test?.d ?? null, js: null, p: test?.p ?? null };
    }
    const c = categoryCounts(f, (a as CategoricalAggregate)[3]);
    const test = chiSquare(c.reference, c.current);
    return { f, psi: featurePsi(f, a), ks: null, js: jensenShannon(c.reference, c.current), p: test?.p ?? null };
  });
  const adjusted = holm(tested.map((x) => x.p));
  const features: FeatureDrift[] = tested.map((x, j) => {
    const reasons: string[] = [];
    if (x.psi !== null && x.psi >= t.psi) reasons.push(`psi ${round(x.psi)} >= ${t.psi}`);
    const q = adjusted[j] ?? null;
    if (q !== null && q < t.ksAlpha) reasons.push(`${x.f.kind === 'numeric' ? 'ks' : 'chi-square'} p=${q.toPrecision(2)} < ${t.ksAlpha} (Holm)`);
    return { name: x.f.name, kind: x.f.kind, psi: x.psi, ks: x.ks, js: x.js, pValue: x.p, adjustedP: q, drifted: reasons.length > 0, reasons };
  });
  const predictionPsi = predictionPsiOf(profile, agg);
  const prediction = profile.prediction ? { psi: predictionPsi, drifted: predictionPsi !== null && predictionPsi >= t.psi } : null;
  return { drifted: features.some((f) => f.drifted) || (prediction?.drifted ?? false), features, prediction, correction: 'holm' };
}

function predictionCounts(profile: MonitorProfile, agg: Aggregate): { bins: string[]; edges: number[]; reference: number[]; current: number[] } | null {
  const p = profile.prediction;
  if (!p || !agg.prediction) return null;
  if (p.kind === 'classes') {
    const counts = agg.prediction as Map<string, number>;
    const labels = [...p.labels, ...[...counts.keys()].filter((k) => !p.labels.includes(k)).sort()];
    return { bins: labels, edges: [], reference: labels.map((_, i) => p.reference[i] ?? 0), current: labels.map((l) => counts.get(l) ?? 0) };
  }
  return { bins: rangeLabels(p.coarse), edges: p.coarse, reference: coarseCounts(p, p.reference), current: coarseCounts(p, agg.prediction as number[]) };
}

function predictionPsiOf(profile: MonitorProfile, agg: Aggregate): number | null {
  const c = predictionCounts(profile, agg);
  return c ? psi(c.reference, c.current) : null;
}

function qualityOf(profile: MonitorProfile, agg: Aggregate): FeatureQuality[] {
  return profile.features.map((f, j) => {
    const a = agg.features![j]!;
    const [count, missing, third] = a;
    const rate = (n: number) => (count ? n / count : 0);
    const numeric = f.kind === 'numeric';
    return {
      name: f.name,
      kind: f.kind,
      count,
      missing,
      missingRate: rate(missing),
      outOfRange: numeric ? third : 0,
      outOfRangeRate: numeric ? rate(third) : 0,
      unseen: numeric ? 0 : third,
      unseenRate: numeric ? 0 : rate(third),
      min: numeric ? (a as NumericAggregate)[3] : null,
      max: numeric ? (a as NumericAggregate)[4] : null,
    };
  });
}

const rangeLabels = (edges: readonly number[]): string[] =>
  Array.from({ length: edges.length + 1 }, (_, i) => `[${i === 0 ? '-∞' : short(edges[i - 1]!)}, ${i === edges.length ? '∞' : short(edges[i]!)})`);
const short = (v: number): string => String(Number(v.toPrecision(4)));
const round = (v: number): number => Math.round(v * 1000) / 1000;
const fractionsOf = (counts: readonly number[]): number[] => {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total ? c / total : 0));
};

function histogramOf(f: FeatureProfile, a: NumericAggregate | CategoricalAggregate): Histogram {
  if (f.kind === 'numeric') {
    return { name: f.name, kind: 'numeric', bins: rangeLabels(f.coarse), edges: f.coarse, reference: fractionsOf(coarseCounts(f, f.reference)), current: fractionsOf(coarseCounts(f, (a as NumericAggregate)[5])) };
  }
  const c = categoryCounts(f, (a as CategoricalAggregate)[3]);
  return { name: f.name, kind: 'categorical', bins: [...f.categories, '(unseen)'], edges: [], reference: fractionsOf(c.reference), current: fractionsOf(c.current) };
}

function predictionHistogram(profile: MonitorProfile | null, agg: Aggregate): Histogram | null {
  const c = profile && predictionCounts(profile, agg);
  if (!c || c.current.every((n) => n === 0)) return null;
  return { name: 'prediction', kind: profile!.prediction!.kind === 'classes' ? 'categorical' : 'numeric', bins: c.bins, edges: c.edges, reference: fractionsOf(c.reference), current: fractionsOf(c.current) };
}

/** The last label given for each id. */
function latestLabels(records: readonly FeedbackRecord[]): Map<number, FeedbackRecord> {
  const byId = new Map<number, FeedbackRecord>();
  for (const r of records) byId.set(r.id, r);
  return byId;
}

/** Live performance of labeled rows: accuracy, macro precision/recall/F1 and confusion for a classifier; MAE and RMSE for a regressor. */
export function performanceOf(task: 'classification' | 'regression', labeled: readonly FeedbackRecord[]): PerformanceReport {
  if (task === 'regression') {
    const errors = labeled.map((f) => Number(f.prediction) - Number(f.label)).filter(Number.isFinite);
    const n = errors.length;
    return {
      task,
      labeled: labeled.length,
      accuracy: null,
      precision: null,
      recall: null,
      f1: null,
      confusion: null,
      mae: n ? errors.reduce((s, e) => s + Math.abs(e), 0) / n : null,
      rmse: n ? Math.sqrt(errors.reduce((s, e) => s + e * e, 0) / n) : null,
    };
  }
  const pairs = labeled.map((f) => [labelKey(f.label), labelKey(f.prediction)] as const);
  const labels = [...new Set(pairs.flat())].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const index = new Map(labels.map((l, i) => [l, i]));
  const matrix = labels.map(() => new Array<number>(labels.length).fill(0));
  for (const [actual, predicted] of pairs) matrix[index.get(actual)!]![index.get(predicted)!]!++;
  const perClass = labels.map((_, i) => {
    const hits = matrix[i]![i]!;
    const support = matrix[i]!.reduce((a, b) => a + b, 0);
    const predictedAs = matrix.reduce((n, row) => n + row[i]!, 0);
    const precision = predictedAs ? hits / predictedAs : 0;
    const recall = support ? hits / support : 0;
    return { precision, recall, f1: precision + recall ? (2 * precision * recall) / (precision + recall) : 0 };
  });
  const mean = (key: 'precision' | 'recall' | 'f1') => perClass.reduce((s, c) => s + c[key], 0) / perClass.length;
  return {
    task,
    labeled: labeled.length,
    accuracy: pairs.filter(([a, p]) => a === p).length / pairs.length,
    precision: mean('precision'),
    recall: mean('recall'),
    f1: mean('f1'),
    confusion: { labels, matrix },
    mae: null,
    rmse: null,
  };
}

/** Live metrics as gate inputs: `accuracy>=0.9` reads performance.accuracy. */
function liveSummaries(performance: PerformanceReport | null): Record<string, MetricSummary> {
  const out: Record<string, MetricSummary> = {};
  if (!performance) return out;
  for (const key of ['accuracy', 'precision', 'recall', 'f1', 'mae', 'rmse', 'labeled'] as const) {
    const value = performance[key];
    if (typeof value === 'number') out[key] = { last: value, lastStep: 0, lastWall: 0, min: value, max: value, count: 1, nonfinite: 0, replaced: 0 };
  }
  return out;
}

function gatesOf(thresholds: MonitorThresholds, source: string, drift: DriftReport | null, performance: PerformanceReport | null): GateReport {
  const results: GateOutcome[] = [];
  if (drift) {
    const drifted = drift.features.filter((f) => f.drifted).map((f) => f.name);
    if (drift.prediction?.drifted) drifted.push('prediction');
    results.push({ condition: 'drift', ok: !drift.drifted, actual: drifted.length, reason: drift.drifted ? `drift in ${drifted.join(', ')}` : 'no drift' });
  }
  const summaries = liveSummaries(performance);
  for (const text of thresholds.gates) {
    const r = evaluateGate(parseGate(text), summaries);
    const reason = performance ? r.reason : `${r.gate.text}: no labeled rows in the window (send them to /feedback)`;
    results.push({ condition: r.gate.text, ok: r.ok, actual: r.actual ?? null, reason });
  }
  return { thresholds, source, results, ok: results.every((r) => r.ok) };
}

/** Thresholds: defaults, then `.runboard/deploy.json` `monitor`, then the model's profile `monitor`, then the options. */
function thresholdsFor(store: Store, modelVersionId: number, options: MonitorOptions): { thresholds: MonitorThresholds; source: string } {
  let thresholds = { ...DEFAULT_THRESHOLDS };
  let source = 'defaults';
  const workspace = workspaceOf(store.file);
  const deployFile = join(workspace, '.runboard', 'deploy.json');
  if (existsSync(deployFile)) {
    const settings = JSON.parse(readFileSync(deployFile, 'utf8')) as { monitor?: unknown };
    if (settings.monitor !== undefined) [thresholds, source] = [{ ...thresholds, ...inFile(deployFile, () => parseMonitorSection(settings.monitor)) }, 'deploy config'];
  }
  const runId = store.models.byId(modelVersionId)?.runId;
  const profileName = runId !== null && runId !== undefined ? store.run(runId)?.profile : null;
  const monitor = profileName ? loadProfiles(workspace).get(profileName)?.monitor : undefined;
  if (monitor) [thresholds, source] = [{ ...thresholds, ...monitor }, `profile ${profileName}`];
  const given = Object.fromEntries(Object.entries(options.thresholds ?? {}).filter(([, v]) => v !== undefined));
  if (Object.keys(given).length) [thresholds, source] = [{ ...thresholds, ...given }, 'options'];
  return { thresholds, source };
}

function inFile<T>(file: string, read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw new UserError(`${file}: ${(err as Error).message}`);
  }
}

/** Per server window (merged to at most `points`), plus the open window as the last point. */
function historyOf(
  profile: MonitorProfile | null,
  windows: readonly WindowRecord[],
  openRows: readonly ServedRow[],
  openRequests: readonly { time: number; latency_ms: number; status: number }[],
  feedback: ReadonlyMap<number, FeedbackRecord>,
  points: number,
): History {
  const groups: Aggregate[] = [];
  const ranges: [number, number][] = [];
  const per = Math.max(1, Math.ceil((windows.length + 1) / points));
  for (let i = 0; i < windows.length; i += per) {
    const agg = emptyAggregate(profile);
    const group = windows.slice(i, i + per);
    for (const w of group) addWindow(agg, w);
    groups.push(agg);
    const ids = group.filter((w) => w.firstId !== null);
    ranges.push(ids.length ? [ids[0]!.firstId!, ids.at(-1)!.lastId!] : [1, 0]);
  }
  if (openRows.length || openRequests.length) {
    const open = emptyAggregate(profile);
    for (const row of openRows) addRow(open, profile, row);
    for (const r of openRequests) addRequest(open, r.time, r.latency_ms, r.status < 400);
    groups.push(open);
    ranges.push(openRows.length ? [openRows[0]!.id, openRows.at(-1)!.id] : [1, 0]);
  }
  const labelsByRange = ranges.map(() => [] as FeedbackRecord[]);
  for (const f of feedback.values()) {
    const k = ranges.findIndex(([a, b]) => f.id >= a && f.id <= b);
    if (k >= 0) labelsByRange[k]!.push(f);
  }
  const result: HistoryPoint[] = groups.map((agg, k) => {
    const traffic = trafficOf(agg);
    const labeled = labelsByRange[k]!;
    const accuracy = profile?.task === 'classification' && labeled.length ? performanceOf('classification', labeled).accuracy : null;
    return {
      from: agg.from ?? 0,
      to: agg.to ?? 0,
      rows: agg.rows,
      requests: agg.requests,
      errors: agg.errors,
      errorRate: traffic.errorRate,
      p50Ms: traffic.p50Ms,
      p95Ms: traffic.p95Ms,
      featurePsi: profile && agg.features ? profile.features.map((f, j) => featurePsi(f, agg.features![j]!)) : [],
      predictionPsi: profile ? predictionPsiOf(profile, agg) : null,
      labeled: labeled.length,
      accuracy,
    };
  });
  return { features: profile?.features.map((f) => f.name) ?? [], points: result };
}
