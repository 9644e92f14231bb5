import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { UserError } from '../errors.js';
import { byteSize } from '../byte-size.js';

/**
 * Reads the picture given to `remix --image`: a regular file of at most `maxBytes` (the bot's
 * `limits.maxAttachmentBytes`). Anything else is refused before it is read: a FIFO would block the read
 * forever and a device such as `/dev/zero` never ends. The file is opened without blocking and checked on
 * the open handle, so what is checked is what is read; a file that grows while it is read is still cut off
 * after `maxBytes + 1` bytes.
 *
 * @throws UserError `cli.imageMissing` (cannot be opened), `cli.imageNotFile`, `cli.imageTooLarge`.
 */
export async function readSourceImage(path: string, maxBytes: number): Promise<Uint8Array> {
  let handle: FileHandle;
  try {
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
    handle = await open(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch (error) {
    throw new UserError(
      'cli.imageMissing',
      `Cannot read the source image ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`,
      { cause: error },
    );
  }
  try {
    const info = await handle.stat();
    if (!info.isFile()) {
      throw new UserError(
        'cli.imageNotFile',
        `The source image ${path} is ${kindOf(info)}, not a file: give a picture file (PNG, JPEG, WebP).`,
      );
    }
    if (info.size > maxBytes) throw tooLarge(path, maxBytes, info.size);
    const chunks: Uint8Array[] = [];
    let length = 0;
    for (;;) {
      const chunk = new Uint8Array(Math.min(readChunkBytes, maxBytes + 1 - length));
      const { bytesRead } = await handle.read(chunk, 0, chunk.byteLength, null);
      if (bytesRead === 0) break;
      chunks.push(chunk.subarray(0, bytesRead));
      length += bytesRead;
      if (length > maxBytes) throw tooLarge(path, maxBytes);
    }
    return Buffer.concat(chunks, length);
  } finally {
    await handle.close();
  }
}

/** Bytes asked for per read: the file size is known, but it may change while it is read. */
const readChunkBytes = 1 << 20;

function tooLarge(path: string, maxBytes: number, size?: number): UserError {
  const actual = size === undefined ? `more than ${maxBytes} bytes` : `${byteSize(size)} (${size} bytes)`;
  return new UserError(
    'cli.imageTooLarge',
    `The source image ${path} is ${actual}; the limit is ${byteSize(maxBytes)} (${maxBytes} bytes, limits.maxAttachmentBytes).`,
  );
}

function kindOf(info: {
  isDirectory(): boolean;
  isFIFO(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSocket(): boolean;
}): string {
  if (info.isDirectory()) return 'a folder';
  if (info.isFIFO()) return 'a named pipe';
  if (info.isCharacterDevice() || info.isBlockDevice()) return 'a device';
  if (info.isSocket()) return 'a socket';
  return 'not a regular file';
}
