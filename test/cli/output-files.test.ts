import assert from 'node:assert/strict';
import { lstat, mkdtemp, readFile, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { OutputFiles } from '../../src/cli/output-files.js';

describe('OutputFiles', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'latentcord-out-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('never writes through a symbolic link planted at the old temporary path <out>.partial-<pid>', async () => {
    const victim = join(dir, 'victim.txt');
    await writeFile(victim, 'precious');
    const out = join(dir, 'planted.png');
    await symlink(victim, `${out}.partial-${process.pid}`);
    const outputs = await OutputFiles.claim([out]);
    await outputs.write(0, new Uint8Array([1, 2, 3]));
    assert.equal(await readFile(victim, 'utf8'), 'precious');
    assert.ok((await lstat(out)).isFile(), 'the picture is a file of its own, not a link');
    assert.deepEqual([...(await readFile(out))], [1, 2, 3]);
  });

  it('creates each temporary file exclusively, under a fresh random name beside its destination', async () => {
    const work = await mkdtemp(join(dir, 'names-'));
    const out = join(work, 'x.png');
    const first = await OutputFiles.claim([out]);
    const second = await OutputFiles.claim([out]);
    const names = (await readdir(work)).sort();
    assert.equal(names.length, 2);
    for (const name of names) assert.match(name, /^\.x\.png\.[0-9a-f]{16}\.partial$/);
    await first.discard();
    await second.write(0, new Uint8Array([9]));
    assert.deepEqual(await readdir(work), ['x.png']);
  });
});
