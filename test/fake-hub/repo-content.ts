import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** One file of the fake repository, with the ids the Hub reports for it. */
export interface FakeRepoFile {
  path: string;
  content: Buffer;
  /** Git blob id of what git stores: the content, or the LFS pointer for LFS files. */
  oid: string;
  /** sha256 of the content. */
  sha256: string;
  /** Stored with Git LFS: served through a redirect to the CDN, listed with `lfs`. */
  lfs: boolean;
  /** Size of the LFS pointer text (LFS files only). */
  pointerSize: number;
}

/** An entry of `GET /api/models/{repo}/tree/{rev}`, shaped like the Hub's (`ApiIndexTreeEntry`). */
export interface TreeEntry {
  type: 'file' | 'directory';
  oid: string;
  size: number;
  path: string;
  lfs?: { oid: string; size: number; pointerSize: number };
}

/**
 * Extensions the Hub's default `.gitattributes` sends to Git LFS (plus ONNX external data), so the fake
 * lists and serves them the way the Hub does a real model repository.
 */
const lfsExtensions = new Set([
  'onnx',
  'onnx_data',
  'pb',
  'safetensors',
  'bin',
  'ckpt',
  'pt',
  'pth',
  'msgpack',
  'h5',
  'png',
  'jpg',
  'jpeg',
  'webp',
]);
const lfsMinSize = 10 * 1024 * 1024;

/** Git's blob id: sha1 of `blob <size>\0` and the bytes. */
export function gitBlobOid(content: Uint8Array): string {
  return createHash('sha1').update(`blob ${content.byteLength}\0`).update(content).digest('hex');
}

/** Builds the ids of one file the way the Hub would after a `git push` with LFS. */
export function makeRepoFile(path: string, content: Buffer): FakeRepoFile {
  const dot = path.lastIndexOf('.');
  const extension = dot < 0 ? '' : path.slice(dot + 1).toLowerCase();
  const lfs = lfsExtensions.has(extension) || content.byteLength >= lfsMinSize;
  const sha256 = createHash('sha256').update(content).digest('hex');
  if (!lfs) return { path, content, oid: gitBlobOid(content), sha256, lfs, pointerSize: 0 };
  const pointer = Buffer.from(`version https://git-lfs.github.com/spec/v1\noid sha256:${sha256}\nsize ${content.byteLength}\n`);
  return { path, content, oid: gitBlobOid(pointer), sha256, lfs, pointerSize: pointer.byteLength };
}

/** Every file under `dir`, as repository paths (`/`-separated) below `prefix`. */
export function readFolder(dir: string, prefix = ''): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  const walk = (folder: string, relative: string): void => {
    for (const name of readdirSync(folder).sort()) {
      const full = join(folder, name);
      const path = relative === '' ? name : `${relative}/${name}`;
      if (statSync(full).isDirectory()) walk(full, path);
      else files.set(path, readFileSync(full));
    }
  };
  walk(dir, prefix.replace(/^\/+|\/+$/g, ''));
  return files;
}

/** The tree listing of a folder (`''` for the root), directories included, sorted by path. */
export function treeEntries(files: ReadonlyMap<string, FakeRepoFile>, folder: string, recursive: boolean): TreeEntry[] | undefined {
  const base = folder === '' ? '' : folder + '/';
  const entries = new Map<string, TreeEntry>();
  let found = folder === '';
  for (const file of files.values()) {
    if (!file.path.startsWith(base)) continue;
    found = true;
    const rest = file.path.slice(base.length).split('/');
    const depth = recursive ? rest.length : 1;
    for (let level = 1; level <= depth; level++) {
      const path = base + rest.slice(0, level).join('/');
      if (level < rest.length) {
        if (!entries.has(path)) {
          entries.set(path, { type: 'directory', oid: createHash('sha1').update(`tree ${path}`).digest('hex'), size: 0, path });
        }
      } else {
        const entry: TreeEntry = { type: 'file', oid: file.oid, size: file.content.byteLength, path };
        if (file.lfs) entry.lfs = { oid: file.sha256, size: file.content.byteLength, pointerSize: file.pointerSize };
        entries.set(path, entry);
      }
    }
  }
  if (!found) return undefined;
  return [...entries.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** A commit id for the repository content: sha1 over every path and blob id. */
export function commitId(files: ReadonlyMap<string, FakeRepoFile>): string {
  const hash = createHash('sha1');
  for (const path of [...files.keys()].sort()) hash.update(`${path}\0${files.get(path)!.oid}\n`);
  return hash.digest('hex');
}
