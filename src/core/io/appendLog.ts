import { closeSync, openSync, writeSync } from 'node:fs';

const BUFFER_BYTES = 1024 * 1024;

/**
 * A file written by appends in batches (at each `flush`, or once a megabyte is waiting): every
 * write to a watched folder wakes its watcher, so one write per chunk of output would be costly.
 * A write that fails (a full disk) stops the file growing but is kept in `error` for the caller
 * to report; it never throws into the producer.
 */
export class AppendLog {
  /** The first write that failed; nothing is written after it. */
  error: Error | undefined;
  private fd: number | undefined;
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  readonly file: string;

  constructor(file: string) {
    this.file = file;
  }

  write(chunk: Buffer): void {
    if (this.error) return;
    this.buffered.push(chunk);
    this.bufferedBytes += chunk.length;
    if (this.bufferedBytes >= BUFFER_BYTES) this.flush();
  }

  flush(): void {
    if (this.bufferedBytes === 0) return;
    const data = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered);
    this.buffered = [];
    this.bufferedBytes = 0;
    try {
      this.fd ??= openSync(this.file, 'a');
      for (let offset = 0; offset < data.length; ) offset += writeSync(this.fd, data, offset);
    } catch (err) {
      this.error = err as Error;
    }
  }

  close(): void {
    this.flush();
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}
