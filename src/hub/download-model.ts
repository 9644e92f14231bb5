import { mkdir, rm, stat, statfs } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UserError } from '../errors.js';
import { fileMatchesChecksum, type ExpectedChecksum } from './checksum.js';
import { listRepoFiles, resolveCommit, type HubClientOptions } from './hub-client.js';
import type { HubErrorContext } from './hub-errors.js';
import { readManifest, writeManifest, type DownloadManifest, type ManifestFile } from './manifest.js';
import { byteSize } from '../byte-size.js';
import { defaultRetryPolicy, type RetryPolicy } from './retry.js';
import { selectModelFiles, type SelectedFile } from './select-files.js';
import { fileSystemError, transferFile, type TransferOptions } from './transfer.js';

/** The public Hub, used when neither the `endpoint` option nor `HF_ENDPOINT` is set. */
export const defaultEndpoint = 'https://huggingface.co';

/** Progress of a download, reported after each chunk written and when a file starts, ends or is skipped. */
export interface DownloadProgress {
  /** Path of the current file inside the model folder. */
  file: string;
  /** Bytes of the current file on disk (a resumed file starts above 0). */
  fileBytes: number;
  fileTotal: number;
  /** Bytes of all needed files on disk, already present ones included. */
  bytes: number;
  /** Size of all needed files. */
  total: number;
  /** `start`, `data` and `done` for a file being fetched; `skipped` for one already present and verified. */
  stage: 'start' | 'data' | 'done' | 'skipped';
}

/** Options of {@link downloadModel}. */
export interface DownloadModelOptions {
  /** Repository id, `owner/name`. */
  repo: string;
  /** Branch, tag or commit id; default `main`. */
  revision?: string | undefined;
  /** Folder to write the model into (created when missing). */
  targetDir: string;
  /**
   * Folder of the repository holding the model (`model_index.json`). Default: the root when it holds
   * one, else the only folder that does.
   */
  subfolder?: string | undefined;
  /** Hub base URL; default `process.env.HF_ENDPOINT`, else {@link defaultEndpoint}. */
  endpoint?: string | undefined;
  /** Access token for gated or private models; default `process.env.HF_TOKEN`. */
  token?: string | undefined;
  onProgress?: ((progress: DownloadProgress) => void) | undefined;
  signal?: AbortSignal | undefined;
  /** Replaces the global `fetch`. */
  fetch?: typeof fetch | undefined;
  /** Retries after passing failures; default {@link defaultRetryPolicy}. */
  retry?: Partial<RetryPolicy> | undefined;
  /** Limit for one API request; default 30 s. */
  requestTimeoutMs?: number | undefined;
  /** A file request that brings no byte for this long is dropped and resumed; default 60 s. */
  idleTimeoutMs?: number | undefined;
  /** Largest file accepted from a listing; default {@link defaultMaxFileBytes}. */
  maxFileBytes?: number | undefined;
  /** Most listing pages followed; default 100 (100,000 entries on the Hub). */
  maxListingPages?: number | undefined;
}

/**
 * Largest single file a model folder may list: the biggest ONNX graph or weights file of a Stable Diffusion
 * model is a few GB (an SDXL UNet's external data about 10 GB). A listing that declares more is broken or hostile.
 */
export const defaultMaxFileBytes = 64 * 2 ** 30;

/** Free space kept beyond the files themselves (manifest, file-system overhead), in bytes. */
const diskSpaceMargin = 64 * 2 ** 20;

/** One file of the model folder after a download. */
export interface DownloadedFile {
  /** Path relative to the model folder. */
  path: string;
  size: number;
  /** `downloaded` (from byte 0), `resumed` (an earlier `.part` file was continued) or `skipped` (already there). */
  status: 'downloaded' | 'resumed' | 'skipped';
}

/** What {@link downloadModel} produced. */
export interface DownloadResult {
  /** Absolute path of the model folder. */
  dir: string;
  repo: string;
  /** The revision asked for. */
  revision: string;
  /** The commit id it resolved to. */
  commit: string;
  /** Folder of the repository the model came from; `''` for the root. */
  subfolder: string;
  files: DownloadedFile[];
  /** Bytes received over the network. */
  bytesDownloaded: number;
}

/**
 * Fetches a diffusers ONNX Stable Diffusion model from the Hugging Face Hub (or a mirror) into
 * `targetDir`: only the files the pipeline needs, each verified against the size and hash the Hub
 * lists, resumable, and skipped when already present. Records `.latentcord-download.json`.
 *
 * @throws UserError for a gated, missing or unsuitable repository, an unreachable Hub, a corrupt
 *   download, or a full disk; the signal's reason when aborted.
 */
export async function downloadModel(options: DownloadModelOptions): Promise<DownloadResult> {
  const repo = checkRepoId(options.repo);
  const revision = options.revision ?? 'main';
  const endpoint = checkEndpoint(options.endpoint ?? process.env.HF_ENDPOINT ?? defaultEndpoint);
  const token = checkToken(options.token ?? process.env.HF_TOKEN);
  const dir = resolve(options.targetDir);
  const context: HubErrorContext = { repo, revision, endpoint, tokenGiven: token !== undefined };
  const retry: RetryPolicy = { ...defaultRetryPolicy, ...options.retry };
  const fetchImpl = options.fetch ?? globalThis.fetch;

  const previous = await readManifest(dir);
  if (previous && previous.repo.toLowerCase() !== repo.toLowerCase()) {
    throw new UserError(
      'hub.targetInUse',
      `${dir} already holds the model ${previous.repo}; download ${repo} into another folder (--dir).`,
    );
  }

  const client: HubClientOptions = {
    context,
    token,
    fetch: fetchImpl,
    signal: options.signal,
    retry,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    maxListingPages: options.maxListingPages,
  };
  const commit = await resolveCommit(client);
  const listing = await listRepoFiles(client, commit);
  const selection = selectModelFiles(listing, repo, options.subfolder);
  for (const file of selection.files) checkLocalPath(file.localPath);
  checkFileSizes(selection.files, options.maxFileBytes ?? defaultMaxFileBytes, context);

  await mkdirOrExplain(dir);
  await checkFreeSpace(dir, selection.files);
  const known = new Map((previous?.files ?? []).map((entry) => [entry.path, entry]));
  // Until each file is checked again, the earlier entries stand, so that a run stopped early loses no verification.
  const recorded = new Map(
    selection.files.flatMap((file) => {
      const entry = known.get(file.localPath);
      return entry ? [[file.localPath, entry] as const] : [];
    }),
  );
  const manifest: DownloadManifest = {
    version: 1,
    repo,
    revision: commit,
    requestedRevision: revision,
    subfolder: selection.subfolder,
    endpoint,
    complete: false,
    updatedAt: new Date().toISOString(),
    files: [],
  };
  await removeDropped(dir, previous, selection.files);

  const total = selection.files.reduce((sum, file) => sum + fileSize(file), 0);
  let bytes = 0;
  let bytesDownloaded = 0;
  const files: DownloadedFile[] = [];
  const transferOptions: TransferOptions = {
    context,
    token,
    fetch: fetchImpl,
    signal: options.signal,
    retry,
    idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
  };

  for (const file of selection.files) {
    const size = fileSize(file);
    const checksum = expectedChecksum(file);
    const finalPath = join(dir, ...file.localPath.split('/'));
    const report = (stage: DownloadProgress['stage'], fileBytes: number): void =>
      options.onProgress?.({ file: file.localPath, fileBytes, fileTotal: size, bytes: bytes + fileBytes, total, stage });

    let status: DownloadedFile['status'];
    if (await isAlreadyPresent(finalPath, size, checksum, known.get(file.localPath))) {
      status = 'skipped';
      report('skipped', size);
    } else {
      report('start', Math.min(size, await existingSize(finalPath + '.part')));
      const result = await transferFile(
        { url: resolveUrl(endpoint, repo, commit, file.path), path: file.path, finalPath, partPath: finalPath + '.part', size, checksum },
        { ...transferOptions, onData: (fileBytes) => report('data', fileBytes) },
      ).catch((error: unknown) => {
        throw fileSystemError(error) ?? error;
      });
      bytesDownloaded += result.bytesFetched;
      status = result.resumedFrom > 0 ? 'resumed' : 'downloaded';
      report('done', size);
    }
    bytes += size;
    files.push({ path: file.localPath, size, status });
    recorded.set(file.localPath, await manifestEntry(file.localPath, finalPath, size, checksum));
    manifest.files = [...recorded.values()].sort((a, b) => (a.path < b.path ? -1 : 1));
    manifest.updatedAt = new Date().toISOString();
    await writeManifest(dir, manifest);
  }

  manifest.complete = true;
  await writeManifest(dir, manifest);
  return { dir, repo, revision, commit, subfolder: selection.subfolder, files, bytesDownloaded };
}

/** Refuses a listing that declares a file larger than `maxBytes` (or a size that is not a byte count). */
function checkFileSizes(files: readonly SelectedFile[], maxBytes: number, context: HubErrorContext): void {
  for (const file of files) {
    const size = fileSize(file);
    if (!Number.isSafeInteger(size) || size < 0 || size > maxBytes) {
      throw new UserError(
        'hub.fileTooLarge',
        `The Hub at ${context.endpoint} lists ${file.path} of ${context.repo} as ${Number.isFinite(size) ? byteSize(size) : String(size)}; ` +
          `files over ${byteSize(maxBytes)} are refused (no model file is that large: the listing is wrong, or the mirror in HF_ENDPOINT is). Nothing was downloaded.`,
      );
    }
  }
}

/**
 * Refuses to start when the disk cannot hold what is still to be fetched: files already complete count as
 * present, `.part` files as far as they go. Checked before the first byte, so that a full disk is said at
 * once instead of after hours of downloading.
 */
async function checkFreeSpace(dir: string, files: readonly SelectedFile[]): Promise<void> {
  let needed = 0;
  for (const file of files) {
    const size = fileSize(file);
    const finalPath = join(dir, ...file.localPath.split('/'));
    const present = (await existingSize(finalPath)) === size ? size : Math.min(size, await existingSize(finalPath + '.part'));
    needed += size - present;
  }
  let free: number;
  try {
    const info = await statfs(dir);
    free = Number(info.bavail) * Number(info.bsize);
  } catch {
    return; // A file system that cannot say: the write itself will report a full disk.
  }
  if (needed + diskSpaceMargin > free) {
    throw new UserError(
      'hub.diskFull',
      `Not enough disk space in ${dir}: the model needs ${byteSize(needed)} more, and ${byteSize(free)} is free. ` +
        'Free some space or choose another folder (--dir); nothing was downloaded.',
    );
  }
}

/** `{endpoint}/{repo}/resolve/{commit}/{path}`, the Hub's download route, with each path part encoded. */
export function resolveUrl(endpoint: string, repo: string, commit: string, path: string): string {
  const encodedPath = path.split('/').map(encodeURIComponent).join('/');
  return `${endpoint}/${repo}/resolve/${encodeURIComponent(commit)}/${encodedPath}`;
}

async function existingSize(path: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch {
    return 0;
  }
}

function fileSize(file: SelectedFile): number {
  return file.lfs?.size ?? file.size;
}

function expectedChecksum(file: SelectedFile): ExpectedChecksum | undefined {
  if (file.lfs) return { algorithm: 'sha256', digest: file.lfs.oid.toLowerCase() };
  // A Xet file listed without its LFS sha256: its `oid` is a pointer's, not the content's, so only the size can be checked.
  if (file.xetHash) return undefined;
  if (file.oid) return { algorithm: 'git-sha1', digest: file.oid.toLowerCase() };
  return undefined;
}

/**
 * True when the final file is there with the expected size and either the manifest vouches for it
 * (same hash, untouched since) or hashing it now gives the expected hash.
 */
async function isAlreadyPresent(
  path: string,
  size: number,
  checksum: ExpectedChecksum | undefined,
  recorded: ManifestFile | undefined,
): Promise<boolean> {
  let info;
  try {
    info = await stat(path);
  } catch {
    return false;
  }
  if (!info.isFile() || info.size !== size) return false;
  if (checksum === undefined) return true;
  if (recorded && recorded.size === size && recorded.mtimeMs === info.mtimeMs && recordedDigest(recorded, checksum) === checksum.digest)
    return true;
  return fileMatchesChecksum(path, size, checksum);
}

function recordedDigest(entry: ManifestFile, checksum: ExpectedChecksum): string | undefined {
  return checksum.algorithm === 'sha256' ? entry.sha256 : entry.gitOid;
}

async function manifestEntry(path: string, finalPath: string, size: number, checksum: ExpectedChecksum | undefined): Promise<ManifestFile> {
  const { mtimeMs } = await stat(finalPath);
  return {
    path,
    size,
    sha256: checksum?.algorithm === 'sha256' ? checksum.digest : undefined,
    gitOid: checksum?.algorithm === 'git-sha1' ? checksum.digest : undefined,
    mtimeMs,
  };
}

/** Deletes files an earlier download of this folder wrote that the new revision no longer has, so that no stale component lingers. */
async function removeDropped(dir: string, previous: DownloadManifest | undefined, wanted: readonly SelectedFile[]): Promise<void> {
  if (!previous) return;
  const keep = new Set(wanted.map((file) => file.localPath));
  for (const entry of previous.files) {
    if (keep.has(entry.path)) continue;
    try {
      const path = join(dir, ...checkLocalPath(entry.path).split('/'));
      await rm(path, { force: true });
      await rm(path + '.part', { force: true });
    } catch {
      // A manifest entry we cannot place safely is left alone.
    }
  }
}

async function mkdirOrExplain(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw fileSystemError(error) ?? error;
  }
}

function checkRepoId(repo: string): string {
  const trimmed = repo.trim();
  if (!/^[A-Za-z0-9][\w.-]*(\/[A-Za-z0-9][\w.-]*)?$/.test(trimmed) || trimmed.includes('..')) {
    throw new UserError('hub.badRepo', `"${repo}" is not a model repository id: write it as owner/name, as in the model page address.`);
  }
  return trimmed;
}

function checkEndpoint(endpoint: string): string {
  const trimmed = endpoint.trim().replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(trimmed);
  } catch {
    throw new UserError(
      'hub.badEndpoint',
      `The Hub address "${endpoint}" (HF_ENDPOINT) is not a URL; it looks like https://huggingface.co.`,
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new UserError('hub.badEndpoint', `The Hub address "${endpoint}" (HF_ENDPOINT) must start with https:// or http://.`);
  }
  return trimmed;
}

function checkToken(token: string | undefined): string | undefined {
  const trimmed = token?.trim();
  if (!trimmed) return undefined;
  if (!trimmed.startsWith('hf_')) {
    throw new UserError(
      'hub.badToken',
      'HF_TOKEN does not look like a Hugging Face access token (they start with "hf_"); create one at https://huggingface.co/settings/tokens.',
    );
  }
  return trimmed;
}

/** Refuses repository paths that could land outside the model folder. */
function checkLocalPath(path: string): string {
  const parts = path.split('/');
  if (
    path.includes('\\') ||
    path.includes('\0') ||
    parts.some((part) => part === '' || part === '.' || part === '..' || /^[A-Za-z]:/.test(part))
  ) {
    throw new UserError('hub.badPath', `The repository lists a file with an unsafe path: "${path}".`);
  }
  return path;
}
