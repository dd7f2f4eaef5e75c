import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { UserError } from '../errors.ts';

/**
 * The text of a regular file of at most `maxBytes`. Anything else is refused before a byte is
 * read: a link to /dev/zero would grow the reader without end, and opening a FIFO for reading
 * waits for a writer forever (O_NONBLOCK opens it at once, so it can be told apart).
 */
export async function readRegularText(path: string, maxBytes: number): Promise<string> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const info = await handle.stat();
    if (!info.isFile()) throw new UserError(`${path} is not a regular file; it was not read.`);
    if (info.size > maxBytes) throw new UserError(`${path} is ${info.size} bytes, more than the ${maxBytes} it may have; it was not read.`);
    // What was there at the stat: a file still growing is read again at its next change.
    const buffer = Buffer.alloc(info.size);
    let length = 0;
    for (let bytesRead = -1; bytesRead !== 0 && length < buffer.length; length += bytesRead) {
      ({ bytesRead } = await handle.read(buffer, length, buffer.length - length, length));
    }
    return buffer.toString('utf8', 0, length);
  } finally {
    await handle.close();
  }
}
