import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/**
 * What a downloaded file must hash to. The Hub reports the sha256 of the content for LFS (and Xet)
 * files (`lfs.oid`, `x-linked-etag`) and the git blob id for regular files (`oid`, `etag`), which is
 * the sha1 of `blob <size>\0` followed by the content.
 */
export interface ExpectedChecksum {
  algorithm: 'sha256' | 'git-sha1';
  /** Lower-case hex digest. */
  digest: string;
}

/** An incremental hasher for one {@link ExpectedChecksum} kind. */
export interface ContentHasher {
  update(chunk: Uint8Array): void;
  /** The lower-case hex digest; call once. */
  digest(): string;
}

/** Starts hashing content of `size` bytes (the size is part of a git blob id). */
export function createContentHasher(algorithm: ExpectedChecksum['algorithm'], size: number): ContentHasher {
  let hash: Hash;
  if (algorithm === 'sha256') {
    hash = createHash('sha256');
  } else {
    hash = createHash('sha1');
    hash.update(`blob ${size}\0`);
  }
  return {
    update: (chunk) => void hash.update(chunk),
    digest: () => hash.digest('hex'),
  };
}

/** Feeds the first `length` bytes of a file (all of it by default) into a hasher. */
export async function hashFilePrefix(path: string, hasher: ContentHasher, length?: number): Promise<void> {
  if (length === 0) return;
  const stream = createReadStream(path, length === undefined ? {} : { start: 0, end: length - 1 });
  for await (const chunk of stream) hasher.update(chunk as Buffer);
}

/** Hashes a whole file the way `expected` says and tells whether it matches. */
export async function fileMatchesChecksum(path: string, size: number, expected: ExpectedChecksum): Promise<boolean> {
  const hasher = createContentHasher(expected.algorithm, size);
  await hashFilePrefix(path, hasher);
  return hasher.digest() === expected.digest;
}
