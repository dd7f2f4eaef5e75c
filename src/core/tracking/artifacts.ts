import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { readRegularText } from '../io/boundedRead.ts';
import type { Store } from '../store/store.ts';
import { ARTIFACT_KINDS, type ArtifactKind } from '../store/types.ts';
import { isVanished } from './fileErrors.ts';
import { isRecord, parseLenientJson } from './lineParser.ts';
import { artifactKind, CLIENT_FILES, MAX_WHOLE_FILE_BYTES } from './runFolder.ts';

/** An artifact is recorded once it has not changed for this long (or at close). */
const ARTIFACT_STABLE_MS = 500;

export interface ArtifactStabilizerOptions {
  store: Store;
  runId: number;
  runDir: string;
  /** A file stopped changing: call `record` for it (from the caller's work queue). */
  onStable: (path: string) => void;
}

/**
 * Records the run's artifacts: waits for a file to stop changing, hashes it, and records it
 * with its size, sha256 and kind (the client's artifacts.jsonl, else by extension); again when
 * it changes later.
 */
export class ArtifactStabilizer {
  private readonly options: ArtifactStabilizerOptions;
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Relative path → `size:mtime` of the version recorded. */
  private readonly recorded = new Map<string, string>();
  private kinds = new Map<string, ArtifactKind>();

  constructor(options: ArtifactStabilizerOptions) {
    this.options = options;
  }

  /** The file changed: it is recorded once it has been still for a while. */
  changed(path: string): void {
    clearTimeout(this.timers.get(path));
    this.timers.set(
      path,
      setTimeout(() => {
        this.timers.delete(path);
        this.options.onStable(path);
      }, ARTIFACT_STABLE_MS),
    );
  }

  /**
   * Hashes a file and records it under `rel`, unless it changed while being hashed (then it is
   * not stable yet). `final`: the writer is done, so a file still changing is recorded anyway.
   */
  async record(path: string, rel: string, final: boolean): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const before = await stat(path);
      if (!before.isFile()) return;
      const signature = `${before.size}:${before.mtimeMs}`;
      if (this.recorded.get(rel) === signature) return;
      const sha256 = await sha256File(path);
      const after = await stat(path);
      if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) {
        if (!final) return this.changed(path);
        // Still being written at close: a few tries, then the last complete read is recorded.
        if (attempt < 2) continue;
      }
      if (rel.startsWith('artifacts/')) await this.readKinds();
      const { store, runId } = this.options;
      store.addArtifact(runId, { path: rel, size: before.size, sha256, kind: this.kinds.get(rel) ?? artifactKind(rel) });
      this.recorded.set(rel, signature);
      return;
    }
  }

  /** The client's sidecar: one `{"path": "artifacts/model.bin", "kind": "model"}` per line; the last line for a path wins. */
  async readKinds(): Promise<void> {
    let text: string;
    try {
      text = await readRegularText(join(this.options.runDir, CLIENT_FILES.artifactKinds), MAX_WHOLE_FILE_BYTES);
    } catch (err) {
      if (isVanished(err)) return;
      throw err;
    }
    const kinds = new Map<string, ArtifactKind>();
    for (const line of text.split('\n')) {
      const entry = line.trim() ? parseLenientJson(line) : undefined;
      if (isRecord(entry) && typeof entry.path === 'string' && ARTIFACT_KINDS.includes(entry.kind as ArtifactKind)) {
        kinds.set(entry.path, entry.kind as ArtifactKind);
      }
    }
    this.kinds = kinds;
  }

  /** Stops waiting: close() records every file anyway. */
  stop(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}
