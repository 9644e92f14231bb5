import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { UserError, isUserError } from '../errors.js';

/**
 * The CLI's output files, claimed before the generation starts: a path that cannot be written fails in a
 * second instead of after minutes of denoising. Each picture is written to a temporary file beside its
 * destination and renamed into place, so an interrupted run never leaves a half-written PNG behind.
 *
 * The temporary file has an unpredictable name and is created exclusively (`O_CREAT | O_EXCL`, which also
 * refuses to follow a symbolic link): in a folder others can write to, nobody can plant a link at the
 * temporary path beforehand and have the picture written through it into a file of theirs choosing.
 */
export class OutputFiles {
  private constructor(
    private readonly paths: readonly string[],
    private readonly pending: Array<{ temporary: string; handle: FileHandle } | undefined>,
  ) {}

  /** Creates the folders and one temporary file per destination; a UserError names a path that cannot be written. */
  static async claim(paths: readonly string[]): Promise<OutputFiles> {
    const pending: Array<{ temporary: string; handle: FileHandle } | undefined> = [];
    const claimed = new OutputFiles(paths, pending);
    try {
      for (const path of paths) {
        if ((await stat(path).catch(() => undefined))?.isDirectory()) {
          throw new UserError('cli.output', `Cannot write ${path}: it is a folder; give a file name such as ${join(path, 'picture.png')}.`);
        }
        await mkdir(dirname(path), { recursive: true });
        pending.push(await createTemporary(path));
      }
    } catch (error) {
      await claimed.discard();
      throw isUserError(error) ? error : cannotWrite(paths[pending.length] ?? paths[0]!, error);
    }
    return claimed;
  }

  /** Writes picture `index` and moves it to its destination; returns that path. */
  async write(index: number, bytes: Uint8Array): Promise<string> {
    const entry = this.pending[index];
    const path = this.paths[index];
    if (entry === undefined || path === undefined) throw new Error(`output ${index} was not claimed or is already written`);
    this.pending[index] = undefined;
    try {
      await entry.handle.writeFile(bytes);
      await entry.handle.close();
      await rename(entry.temporary, path);
    } catch (error) {
      await entry.handle.close().catch(() => undefined);
      await rm(entry.temporary, { force: true });
      throw cannotWrite(path, error);
    }
    return path;
  }

  /** Removes the temporary files of pictures that were not written (after a failure or cancellation). */
  async discard(): Promise<void> {
    for (const [index, entry] of this.pending.entries()) {
      if (entry === undefined) continue;
      this.pending[index] = undefined;
      await entry.handle.close().catch(() => undefined);
      await rm(entry.temporary, { force: true });
    }
  }
}

/** Attempts at an unused random name before giving up (a clash of 64 random bits means something is wrong). */
const maxNameAttempts = 8;

/** Creates `.<name>.<random>.partial` beside `path`, exclusively. */
async function createTemporary(path: string): Promise<{ temporary: string; handle: FileHandle }> {
  for (let attempt = 1; ; attempt++) {
    const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(8).toString('hex')}.partial`);
    try {
      return { temporary, handle: await open(temporary, 'wx') };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt >= maxNameAttempts) throw error;
    }
  }
}

function cannotWrite(path: string, error: unknown): UserError {
  return new UserError('cli.output', `Cannot write ${path}: ${describe(error)}.`, { cause: error });
}

/** A file-system error in words, with its code for searching. */
function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  const words: Record<string, string> = {
    EEXIST: 'part of the path is a file, not a folder',
    ENOTDIR: 'part of the path is a file, not a folder',
    ENOENT: 'no such folder, or files cannot be created there',
    EACCES: 'permission denied',
    EPERM: 'permission denied',
    EROFS: 'the file system is read-only',
    ENOSPC: 'the disk is full',
    EISDIR: 'it is a folder',
  };
  return code && words[code] ? `${words[code]} (${code})` : (error as Error).message;
}
