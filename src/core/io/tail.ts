import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { StringDecoder } from 'node:string_decoder';

export type LineHandler = (line: string, overlong: boolean) => void;

/**
 * Splits a byte stream into lines without ever holding more than `maxLineLength` characters of
 * one: the rest of an over-long line is skipped and the line reported as `overlong`. Invalid
 * UTF-8 decodes to U+FFFD; `\r\n` is left to the caller.
 */
export class LineSplitter {
  private decoder = new StringDecoder('utf8');
  private partial = '';
  private overlong = false;
  private readonly maxLineLength: number;

  constructor(maxLineLength: number) {
    this.maxLineLength = maxLineLength;
  }

  push(chunk: Buffer, onLine: LineHandler): void {
    this.split(this.decoder.write(chunk), onLine);
  }

  /** The stream ended: a last line without its newline counts too. */
  end(onLine: LineHandler): void {
    this.split(this.decoder.end(), onLine);
    if (this.partial || this.overlong) onLine(this.partial, this.overlong);
    this.reset();
  }

  reset(): void {
    this.decoder = new StringDecoder('utf8');
    this.partial = '';
    this.overlong = false;
  }

  private split(text: string, onLine: LineHandler): void {
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      if (this.overlong || this.partial.length + nl - start > this.maxLineLength) onLine('', true);
      else onLine(this.partial ? this.partial + text.slice(start, nl) : text.slice(start, nl), false);
      this.partial = '';
      this.overlong = false;
      start = nl + 1;
    }
    if (start === text.length || this.overlong) return;
    if (this.partial.length + text.length - start > this.maxLineLength) {
      this.partial = '';
      this.overlong = true;
    } else {
      this.partial += text.slice(start);
    }
  }
}

export interface FileTailOptions {
  maxLineLength: number;
  onLine: LineHandler;
  /** The file was rewritten and is read again from its start: forget what its lines set up. */
  onRestart?: () => void;
}

/** Bytes read per system call, so a large backlog never sits in memory whole. */
const READ_CHUNK = 4 * 1024 * 1024;
/** Bytes compared at the start of a tailed file to notice it was rewritten rather than appended to. */
const HEAD_BYTES = 256;

/**
 * Follows a file that grows by appends, from a byte offset, keeping a partial last line until its
 * newline arrives. A file that shrank, was replaced (new inode) or whose first bytes changed was
 * rewritten (truncated or rotated): it is read again from the start.
 */
export class FileTail {
  /** Bytes read so far. */
  offset = 0;
  private inode = -1;
  private head = Buffer.alloc(0);
  private readonly splitter: LineSplitter;
  private readonly path: string;
  private readonly onLine: LineHandler;
  private readonly onRestart: () => void;

  constructor(path: string, options: FileTailOptions) {
    this.path = path;
    this.splitter = new LineSplitter(options.maxLineLength);
    this.onLine = options.onLine;
    this.onRestart = options.onRestart ?? (() => {});
  }

  /** Reads what was appended since the last call. `final`: the writer is done, so a partial last line counts. */
  async read(final: boolean): Promise<void> {
    const handle = await open(this.path, 'r');
    try {
      const info = await handle.stat();
      if (info.ino !== this.inode || info.size < this.offset || !(await this.sameHead(handle))) {
        this.inode = info.ino;
        this.offset = 0;
        this.head = Buffer.alloc(0);
        this.splitter.reset();
        this.onRestart();
      }
      const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK, Math.max(1, info.size - this.offset)));
      while (this.offset < info.size) {
        const { bytesRead } = await handle.read(buffer, 0, Math.min(buffer.length, info.size - this.offset), this.offset);
        if (bytesRead === 0) break;
        if (this.head.length < HEAD_BYTES && this.offset < HEAD_BYTES) {
          this.head = Buffer.concat([this.head, buffer.subarray(0, Math.min(bytesRead, HEAD_BYTES - this.offset))]);
        }
        this.offset += bytesRead;
        this.splitter.push(buffer.subarray(0, bytesRead), this.onLine);
      }
      if (final) this.splitter.end(this.onLine);
    } finally {
      await handle.close();
    }
  }

  private async sameHead(handle: FileHandle): Promise<boolean> {
    if (this.head.length === 0) return true;
    const current = Buffer.alloc(this.head.length);
    const { bytesRead } = await handle.read(current, 0, current.length, 0);
    return bytesRead === this.head.length && current.equals(this.head);
  }
}

export interface FileEnd {
  /** Whole lines only: when the file is longer than the read, the cut first line is dropped. */
  text: string;
  /** The file holds more than `text`. */
  cut: boolean;
}

/**
 * The last `maxBytes` of a file, whatever its length (logs only grow: recent lines are what a
 * dashboard or a log view shows). Undefined when the file does not exist; other errors throw.
 */
export function readEnd(file: string, maxBytes: number): FileEnd | undefined {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const size = fstatSync(fd).size;
    const length = Math.min(size, maxBytes);
    const buffer = Buffer.alloc(length);
    const bytesRead = readSync(fd, buffer, 0, length, size - length);
    const text = buffer.toString('utf8', 0, bytesRead);
    if (length === size) return { text, cut: false };
    const firstNewline = text.indexOf('\n');
    return { text: firstNewline < 0 ? '' : text.slice(firstNewline + 1), cut: true };
  } finally {
    closeSync(fd);
  }
}
