import { closeSync, openSync, writeSync } from 'node:fs';

const BUFFER_BYTES = 1024 * 1024;
/** Bytes kept in memory while the file cannot be written (a full disk); beyond them output is dropped and counted. */
const MAX_HELD_BYTES = 64 * 1024 * 1024;
/** A failing file is tried again at most this often, not at every chunk. */
const RETRY_MS = 200;

export interface AppendLogOptions {
  maxHeldBytes?: number;
}

/**
 * A file written by appends in batches (at each `flush`, or once a megabyte is waiting): every
 * write to a watched folder wakes its watcher, so one write per chunk of output would be costly.
 * A write that fails (a full disk) never throws into the producer: the bytes not written are
 * held, up to a bound, and written when space comes back; only what is still unwritten at
 * `close`, or came while the bound was reached, is lost, and then `error` says how much, from where.
 */
export class AppendLog {
  /** Set by `close` when bytes are missing from the file: how many, from which offset, and why. */
  error: NodeJS.ErrnoException | undefined;
  readonly file: string;
  private readonly maxHeldBytes: number;
  private fd: number | undefined;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes in the file, as appended here. */
  private written = 0;
  private failure: NodeJS.ErrnoException | undefined;
  private retryAt = 0;
  private lostCause: NodeJS.ErrnoException | undefined;
  private lostBytes = 0;
  private lostFrom: number | undefined;

  constructor(file: string, options: AppendLogOptions = {}) {
    this.file = file;
    this.maxHeldBytes = options.maxHeldBytes ?? MAX_HELD_BYTES;
  }

  write(chunk: Buffer): void {
    if (this.failure && this.pendingBytes + chunk.length > this.maxHeldBytes) {
      this.flush(); // space may have come back
      if (this.failure && this.pendingBytes + chunk.length > this.maxHeldBytes) {
        this.lose(chunk.length, this.written + this.pendingBytes);
        return;
      }
    }
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes >= BUFFER_BYTES) this.flush();
  }

  /** Writes what waits (write(2), no fsync: the bytes survive this process); false while some still wait. */
  flush(): boolean {
    if (this.pendingBytes === 0) return true;
    if (this.failure && Date.now() < this.retryAt) return false;
    const data = this.pending.length === 1 ? this.pending[0]! : Buffer.concat(this.pending);
    let offset = 0;
    try {
      this.fd ??= openSync(this.file, 'a');
      while (offset < data.length) offset += writeSync(this.fd, data, offset);
      this.failure = undefined;
    } catch (err) {
      this.failure = err as NodeJS.ErrnoException;
      this.retryAt = Date.now() + RETRY_MS;
    }
    this.written += offset;
    const rest = data.subarray(offset);
    this.pending = rest.length ? [rest] : [];
    this.pendingBytes = rest.length;
    return rest.length === 0;
  }

  close(): void {
    this.retryAt = 0;
    this.flush();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
    if (this.pendingBytes > 0) this.lose(this.pendingBytes, this.written);
    this.pending = [];
    this.pendingBytes = 0;
    const cause = this.lostCause;
    if (cause) {
      this.error = Object.assign(new Error(`${cause.message}; ${this.lostBytes} bytes of output are missing from byte ${this.lostFrom} on`), { code: cause.code });
    }
  }

  /** `at`: the file offset the bytes belonged at; the first gap is the one reported. */
  private lose(bytes: number, at: number): void {
    this.lostCause ??= this.failure;
    this.lostFrom ??= at;
    this.lostBytes += bytes;
  }
}
