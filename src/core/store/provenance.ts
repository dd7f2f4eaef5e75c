import { change } from './changes.ts';
import type { Connection } from './connection.ts';
import type { LineageRepository } from './lineage.ts';
import type { Artifact, ArtifactKind, CodeState, Input } from './types.ts';

export interface Dataset {
  id: number;
  path: string;
  fingerprint: string;
  size: number;
}

/** What a run made (artifacts) and what it was made from (inputs, code, environment). */
export class ProvenanceRepository {
  private readonly sql: Connection;
  private readonly lineage: LineageRepository;
  private readonly s;

  constructor(sql: Connection, lineage: LineageRepository) {
    this.sql = sql;
    this.lineage = lineage;
    this.s = {
      addArtifact: sql.prepare(`INSERT OR REPLACE INTO artifacts (run_id, path, size, sha256, kind, created_at) VALUES (?, ?, ?, ?, ?, ?)`),
      artifacts: sql.prepare('SELECT path, size, sha256, kind, created_at AS createdAt FROM artifacts WHERE run_id = ? ORDER BY path'),
      datasetId: sql.prepare('SELECT id FROM datasets WHERE path = ? AND fingerprint = ?').pluck(),
      dataset: sql.lazy('SELECT id, path, fingerprint, size FROM datasets WHERE id = ?'),
      addDataset: sql.prepare('INSERT INTO datasets (path, fingerprint, size) VALUES (?, ?, ?)'),
      addInput: sql.prepare('INSERT OR IGNORE INTO run_inputs (run_id, dataset_id) VALUES (?, ?)'),
      inputs: sql.prepare(`SELECT d.id AS datasetId, d.path, d.fingerprint, d.size FROM run_inputs i
        JOIN datasets d ON d.id = i.dataset_id WHERE i.run_id = ? ORDER BY d.path`),
      setCode: sql.prepare(`INSERT OR REPLACE INTO code_states (run_id, git_commit, branch, dirty, patch, patch_truncated) VALUES (?, ?, ?, ?, ?, ?)`),
      code: sql.prepare('SELECT git_commit, branch, dirty, patch, patch_truncated FROM code_states WHERE run_id = ?'),
      setEnv: sql.prepare('INSERT OR REPLACE INTO environments (run_id, info) VALUES (?, ?)'),
      env: sql.prepare('SELECT info FROM environments WHERE run_id = ?').pluck(),
      cachedFingerprint: sql.prepare('SELECT fingerprint FROM fingerprint_cache WHERE path = ? AND size = ? AND mtime_ms = ?').pluck(),
      cacheFingerprint: sql.prepare('INSERT OR REPLACE INTO fingerprint_cache (path, size, mtime_ms, fingerprint) VALUES (?, ?, ?, ?)'),
    };
  }

  addArtifact(runId: number, a: { path: string; size: number; sha256: string; kind: ArtifactKind }): void {
    this.s.addArtifact.run(runId, a.path, a.size, a.sha256, a.kind, Date.now());
    this.changed(runId);
  }

  artifacts(runId: number): Artifact[] {
    return this.s.artifacts.all(runId) as Artifact[];
  }

  /** The dataset (found by path and fingerprint, else recorded) as an input of the run, with its lineage edge. */
  addInput(runId: number, input: { path: string; fingerprint: string; size: number }): number {
    return this.sql.transaction(() => {
      const id =
        (this.s.datasetId.get(input.path, input.fingerprint) as number | undefined) ??
        Number(this.s.addDataset.run(input.path, input.fingerprint, input.size).lastInsertRowid);
      this.s.addInput.run(runId, id);
      this.lineage.addEdge({ srcKind: 'dataset', srcId: id, dstKind: 'run', dstId: runId, relation: 'input' });
      this.changed(runId);
      return id;
    });
  }

  inputs(runId: number): Input[] {
    return this.s.inputs.all(runId) as Input[];
  }

  dataset(id: number): Dataset | undefined {
    return this.s.dataset().get(id) as Dataset | undefined;
  }

  cachedFingerprint(path: string, size: number, mtimeMs: number): string | undefined {
    return this.s.cachedFingerprint.get(path, size, Math.trunc(mtimeMs)) as string | undefined;
  }

  cacheFingerprint(path: string, size: number, mtimeMs: number, fingerprint: string): void {
    this.s.cacheFingerprint.run(path, size, Math.trunc(mtimeMs), fingerprint);
  }

  setCodeState(runId: number, code: CodeState): void {
    this.s.setCode.run(runId, code.commit, code.branch, code.dirty ? 1 : 0, code.patch, code.patchTruncated ? 1 : 0);
    this.changed(runId);
  }

  codeState(runId: number): CodeState | undefined {
    const row = this.s.code.get(runId) as CodeRow | undefined;
    return row && { commit: row.git_commit, branch: row.branch, dirty: row.dirty === 1, patch: row.patch, patchTruncated: row.patch_truncated === 1 };
  }

  setEnvironment(runId: number, info: Record<string, unknown>): void {
    this.s.setEnv.run(runId, JSON.stringify(info));
    this.changed(runId);
  }

  environment(runId: number): Record<string, unknown> | undefined {
    const text = this.s.env.get(runId) as string | undefined;
    return text === undefined ? undefined : JSON.parse(text);
  }

  private changed(runId: number): void {
    this.sql.emit(change({ runs: [runId] }));
  }
}

interface CodeRow {
  git_commit: string | null;
  branch: string | null;
  dirty: number;
  patch: string | null;
  patch_truncated: number;
}
