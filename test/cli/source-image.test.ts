import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, symlink, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readSourceImage } from '../../src/cli/source-image.js';
import { isUserError, type UserError } from '../../src/errors.js';

function refusedAs(identifier: string, fragment: RegExp): (error: unknown) => boolean {
  return (error) => {
    assert.ok(isUserError(error), String(error));
    assert.equal((error as UserError).identifier, identifier);
    assert.match((error as Error).message, fragment);
    return true;
  };
}

describe('readSourceImage', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'latentcord-source-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads a regular file up to the limit, also through a symbolic link', async () => {
    const file = join(dir, 'ok.png');
    const bytes = Buffer.from(Array.from({ length: 3000 }, (_, i) => i % 251));
    await writeFile(file, bytes);
    assert.deepEqual(Buffer.from(await readSourceImage(file, 3000)), bytes);
    await symlink(file, join(dir, 'link.png'));
    assert.deepEqual(Buffer.from(await readSourceImage(join(dir, 'link.png'), 3000)), bytes);
  });

  it('refuses a file one byte over the limit without reading it', async () => {
    const file = join(dir, 'sparse.png');
    await writeFile(file, '');
    await truncate(file, 2 ** 40); // a sparse terabyte: reading it would never end
    await assert.rejects(
      readSourceImage(file, 1024),
      refusedAs('cli.imageTooLarge', /1\.00 TiB \(1099511627776 bytes\); the limit is 1\.00 KiB/),
    );
  });

  it('refuses a FIFO, a device and a folder', async () => {
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    await assert.rejects(readSourceImage(fifo, 1024), refusedAs('cli.imageNotFile', /is a named pipe, not a file/));
    await assert.rejects(readSourceImage('/dev/zero', 1024), refusedAs('cli.imageNotFile', /is a device, not a file/));
    await assert.rejects(readSourceImage(dir, 1024), refusedAs('cli.imageNotFile', /is a folder, not a file/));
  });

  it('names a file that cannot be opened', async () => {
    await assert.rejects(readSourceImage(join(dir, 'missing.png'), 1024), refusedAs('cli.imageMissing', /missing\.png: ENOENT/));
  });
});
