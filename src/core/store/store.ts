import { UserError } from '../errors.ts';
import { CaptureReaders } from './captureReaders.ts';
import type { Event } from '../events.ts';
import type { StoreChange } from './changes.ts';
import { Connection } from './connection.ts';
import { openDb, type Db, type OpenOptions } from './db.ts';
import { DeploymentRepository } from './deployments.ts';
import { ExperimentRepository } from './experiments.ts';
import { ExternalChanges, type ChangeToken } from './externalChanges.ts';
import { IngestRepository } from './ingest.ts';
import { LineageRepository } from './lineage.ts';
import { MetricStore } from './metrics.ts';
import { ModelRepository } from './models.ts';
import { ParamRepository } from './params.ts';
import { ProvenanceRepository } from './provenance.ts';
import { RunQueries, type RunPage, type RunPageOptions, type RunQuery } from './runQuery.ts';
import { RunRepository, type RunEnd, type RunFilter } from './runs.ts';
import { RunSearches, type RunSearch } from './runSearch.ts';
import { RunTableQueries, type RunTableRow } from './runTable.ts';
import { SyncRepository } from './sync.ts';
import type {
  Artifact,
  ArtifactKind,
  CodeState,
  Envelope,
  Experiment,
  Input,
  LineageEdge,
  LineageKind,
  MetricPoint,
  MetricSummary,
  NewRun,
  Run,
  RunStatus,
  SeriesPoint,
} from './types.ts';

/**
 * The lineage store: one SQLite file per workspace, and the only code that speaks SQL. Each table
 * group has its repository (runs, params, provenance, metrics, lineage, models, deployments); the
 * flat methods below are the run-centred API most callers use. Every write fires `onDidChange`
 * (in this process) with what it touched; `changesSince` tells what other processes wrote.
 */
export class Store {
  readonly db: Db;
  readonly file: string;
  readonly runRecords: RunRepository;
  readonly experimentRecords: ExperimentRepository;
  readonly paramRecords: ParamRepository;
  readonly provenance: ProvenanceRepository;
  readonly metrics: MetricStore;
  readonly lineage: LineageRepository;
  readonly models: ModelRepository;
  readonly deployments: DeploymentRepository;
  readonly onDidChange: Event<StoreChange>;
  private readonly sql: Connection;
  private readonly queries: RunQueries;
  private readonly searches: RunSearches;

  private readonly tableQueries: RunTableQueries;
  private readonly external: ExternalChanges;
  readonly captureReaders: CaptureReaders;
  readonly ingest: IngestRepository;
  readonly sync: SyncRepository;

  static open(file: string, options?: OpenOptions): Store {
    return new Store(openDb(file, options), file);
  }

  private constructor(db: Db, file: string) {
    this.db = db;
    this.file = file;
    this.sql = new Connection(db);
    this.onDidChange = this.sql.onDidChange;
    this.lineage = new LineageRepository(this.sql);
    this.runRecords = new RunRepository(this.sql);
    this.experimentRecords = new ExperimentRepository(this.sql);
    this.paramRecords = new ParamRepository(this.sql);
    this.provenance = new ProvenanceRepository(this.sql, this.lineage);
    this.metrics = new MetricStore(this.sql);
    this.models = new ModelRepository(this.sql, this.lineage);
    this.deployments = new DeploymentRepository(this.sql, this.lineage);
    this.queries = new RunQueries(this.sql);
    this.searches = new RunSearches(this.sql);

    this.tableQueries = new RunTableQueries(this.sql);
    this.external = new ExternalChanges(this.sql);
    this.captureReaders = new CaptureReaders(this.sql);
    this.ingest = new IngestRepository(this.sql, this.metrics, this.runRecords, this.captureReaders);
    this.sync = new SyncRepository(this.sql);
  }

  close(): void {
    this.sql.close();
  }

  /**
   * Runs `fn` in one IMMEDIATE transaction (nested calls become savepoints); the changes it makes
   * are announced once, after the commit. Writers outside the store use this rather than
   * `db.transaction`, so the store's caches forget what a rollback undid.
   */
  transaction<T>(fn: () => T): T {
    return this.sql.transaction(fn);
  }

  /** Announces a change made outside the store's own writes. */
  notify(change: StoreChange): void {
    this.sql.emit(change);
  }

  /** Statements executed on this connection so far (a view's refresh costs the difference). */
  get statementsExecuted(): number {
    return this.sql.statementsExecuted;
  }

  /** What other processes wrote since `token` (see ExternalChanges). */
  changesSince(token: ChangeToken | undefined): { token: ChangeToken; change: StoreChange } {
    return this.external.changesSince(token);
  }

  changeToken(): ChangeToken {
    return this.external.token();
  }

  // ── experiments and runs ───────────────────────────────────────────────────
  experimentId(name: string): number {
    return this.runRecords.experimentId(name);
  }

  experiments(): Experiment[] {
    return this.runRecords.experiments();
  }

  experiment(id: number): Experiment | undefined {
    return this.experimentRecords.byId(id);
  }

  /** Every experiment, oldest first. */
  experimentList(): Experiment[] {
    return this.experimentRecords.list();
  }

  experimentByName(name: string): Experiment | undefined {
    return this.experimentRecords.byName(name);
  }

  setExperimentTag(experimentId: number, key: string, value: string): void {
    this.sql.transaction(() => this.experimentRecords.setTag(experimentId, key, value));
  }

  experimentTags(experimentId: number): Record<string, string> {
    return this.experimentRecords.tags(experimentId);
  }

  createRun(spec: NewRun = {}): Run {
    const id = this.sql.transaction(() => {
      const id = this.runRecords.insert(spec);
      if (spec.params) this.paramRecords.setParams(id, spec.params);
      if (spec.parentId !== undefined) this.lineage.addEdge({ srcKind: 'run', srcId: spec.parentId, dstKind: 'run', dstId: id, relation: 'child' });
      return id;
    });
    return this.run(id)!;
  }

  run(id: number): Run | undefined {
    return this.runRecords.get(id);
  }

  /** A run by its MLflow id (deleted ones too: MLflow clients read and restore them). */
  runByMlflowId(mlflowId: string): Run | undefined {
    return this.runRecords.byMlflowId(mlflowId);
  }

  /** Hides a run from lists, keeping everything recorded about it (MLflow's delete). */
  softDeleteRun(id: number, at = Date.now()): void {
    this.runRecords.setDeleted(id, at);
  }

  restoreRun(id: number): void {
    this.runRecords.setDeleted(id, null);
  }

  renameRun(id: number, name: string): void {
    this.runRecords.rename(id, name);
  }

  setRunUser(id: number, user: string): void {
    this.runRecords.setUser(id, user);
  }

  /** Makes a run the child of another (an MLflow client's `mlflow.parentRunId` tag set later). */
  setRunParent(id: number, parentId: number): void {
    this.sql.transaction(() => {
      this.runRecords.setParent(id, parentId);
      this.lineage.addEdge({ srcKind: 'run', srcId: parentId, dstKind: 'run', dstId: id, relation: 'child' });
    });
  }

  /** Sets the status as given, even on an ended run (an MLflow client's update). */
  setRunStatus(id: number, status: RunStatus, endedAt: number | null): void {
    this.runRecords.setStatus(id, status, endedAt);
  }

  /** A run by numeric id or by name (the newest run of that name). */
  resolveRun(ref: string | number): Run {
    const text = String(ref).trim();
    const run = (/^\d+$/.test(text) ? this.run(Number(text)) : undefined) ?? this.runRecords.byName(text);
    if (!run) throw new UserError(`No run "${text}" in ${this.file}. List runs with: runboard runs`);
    return run;
  }

  runs(filter: RunFilter = {}): Run[] {
    return this.runRecords.list(filter);
  }

  countRuns(filter: Omit<RunFilter, 'limit' | 'offset'> = {}): number {
    return this.runRecords.count(filter);
  }

  /**
   * One page of runs with each one's key metric and child count, filtered and sorted, and how
   * many match: a constant handful of statements whatever the page size.
   */
  runPage(query: RunQuery, options: RunPageOptions = {}): RunPage {
    return this.queries.page(query, options);
  }

  /** MLflow's search_runs: runs of some experiments, filtered, sorted, one page. */
  searchRuns(query: RunSearch): Run[] {
    return this.searches.search(query);
  }

  /** Every run (or those of `ids`) with params, metric summaries, commit and model file: the runs table's rows, in five statements. */
  runTable(ids?: readonly number[]): RunTableRow[] {
    return this.tableQueries.rows(ids);
  }

  markStarted(id: number, pid: number | null): void {
    this.runRecords.markStarted(id, pid);
  }

  markEnded(id: number, end: RunEnd): void {
    this.runRecords.markEnded(id, end);
  }

  /**
   * Replaces the start and end the store stamped with recorded ones (an import). Not the creation
   * time: metric walls are stored relative to it, so it is fixed when the run is created.
   */
  setRunTimes(id: number, times: { startedAt: number | null; endedAt: number | null }): void {
    this.runRecords.setTimes(id, times);
  }

  // A run can be ended by its launcher, by `runboard stop` in another process, or by crash
  // reconciliation, in any order: the conditional updates below apply only while the run is still
  // active, so the first terminal status wins and later ones are no-ops (and announce nothing).

  /** queued → running; false when the run was ended meanwhile (stopped before it started). */
  claimRun(id: number): boolean {
    return this.runRecords.claim(id);
  }

  /** Only on a running run: an ended one keeps no pid that could be reused by another process. */
  setRunPid(id: number, pid: number): void {
    this.runRecords.setPid(id, pid);
  }

  /**
   * Records that a stop was asked for, with the signal sent. On an active run the `signal` column
   * means exactly that, so a launcher in another process learns that an exit after SIGTERM (even
   * exit code 0 from a script that handles it) is a kill, not a finish.
   */
  requestStop(id: number, signal: NodeJS.Signals): boolean {
    return this.runRecords.requestStop(id, signal);
  }

  /**
   * Ends a run unless something else already did; true when this call decided its status.
   * `onlyIfQueued` ends it only if it has not been claimed to start.
   */
  markEndedIfActive(id: number, end: RunEnd & { endedAt?: number }, onlyIfQueued = false): boolean {
    return this.runRecords.endIfActive(id, end, onlyIfQueued);
  }

  setRunDir(id: number, dir: string): void {
    this.runRecords.setRunDir(id, dir);
  }

  addMalformed(id: number, count: number): void {
    this.runRecords.addMalformed(id, count);
  }

  /** The run and everything recorded about it; tables without foreign keys are cleared here. */
  deleteRun(id: number): void {
    this.sql.transaction(() => {
      this.metrics.deleteRun(id);
      this.lineage.deleteRunEdges(id);
      this.runRecords.delete(id);
    });
  }

  // ── params and tags ────────────────────────────────────────────────────────
  setParams(runId: number, params: Record<string, unknown>): void {
    this.sql.transaction(() => this.paramRecords.setParams(runId, params));
  }

  params(runId: number): Record<string, string> {
    return this.paramRecords.params(runId);
  }

  setTags(runId: number, tags: Record<string, unknown>): void {
    this.sql.transaction(() => this.paramRecords.setTags(runId, tags));
  }

  tags(runId: number): Record<string, string> {
    return this.paramRecords.tags(runId);
  }

  /** False when the run has no such tag. */
  deleteTag(runId: number, key: string): boolean {
    return this.paramRecords.deleteTag(runId, key);
  }

  /** A run with this tag value, if any. */
  runIdWithTag(key: string, value: string): number | undefined {
    return this.paramRecords.runIdWithTag(key, value);
  }

  /** Param names recorded anywhere, for filter pickers. */
  paramKeys(): string[] {
    return this.paramRecords.keys();
  }

  // ── metrics ────────────────────────────────────────────────────────────────
  logMetrics(runId: number, points: readonly MetricPoint[]): number {
    return this.metrics.log(runId, points);
  }

  /** Removes one metric series of a run (capture's points for a key that MLflow's client now logs). */
  deleteMetricSeries(runId: number, key: string): boolean {
    return this.metrics.deleteSeries(runId, key);
  }

  summaries(runId: number): Record<string, MetricSummary> {
    return this.metrics.summaries(runId);
  }

  series(runId: number, key: string, from?: number, to?: number): SeriesPoint[] {
    return this.metrics.series(runId, key, from, to);
  }

  envelope(runId: number, key: string, buckets: number, from?: number, to?: number): Envelope {
    return this.metrics.envelope(runId, key, buckets, from, to);
  }

  /** Metric names recorded anywhere, for sort and filter pickers. */
  metricKeys(): string[] {
    return this.metrics.names();
  }

  // ── artifacts, inputs, code, environment ───────────────────────────────────
  addArtifact(runId: number, a: { path: string; size: number; sha256: string; kind: ArtifactKind }): void {
    this.provenance.addArtifact(runId, a);
  }

  artifacts(runId: number): Artifact[] {
    return this.provenance.artifacts(runId);
  }

  addInput(runId: number, input: { path: string; fingerprint: string; size: number }): number {
    return this.provenance.addInput(runId, input);
  }

  inputs(runId: number): Input[] {
    return this.provenance.inputs(runId);
  }

  cachedFingerprint(path: string, size: number, mtimeMs: number): string | undefined {
    return this.provenance.cachedFingerprint(path, size, mtimeMs);
  }

  cacheFingerprint(path: string, size: number, mtimeMs: number, fingerprint: string): void {
    this.provenance.cacheFingerprint(path, size, mtimeMs, fingerprint);
  }

  setCodeState(runId: number, code: CodeState): void {
    this.provenance.setCodeState(runId, code);
  }

  codeState(runId: number): CodeState | undefined {
    return this.provenance.codeState(runId);
  }

  setEnvironment(runId: number, info: Record<string, unknown>): void {
    this.provenance.setEnvironment(runId, info);
  }

  environment(runId: number): Record<string, unknown> | undefined {
    return this.provenance.environment(runId);
  }

  // ── lineage ────────────────────────────────────────────────────────────────
  addEdge(edge: LineageEdge): void {
    this.lineage.addEdge(edge);
  }

  /** Every edge on the way back from a node to its sources (data, parent runs, …): one query. */
  upstream(kind: LineageKind, id: number): LineageEdge[] {
    return this.lineage.upstream(kind, id);
  }

  /** Every edge from a node onward (models built from a run, their deployments, …). */
  downstream(kind: LineageKind, id: number): LineageEdge[] {
    return this.lineage.downstream(kind, id);
  }
}
