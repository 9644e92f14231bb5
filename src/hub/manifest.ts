import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** File name of the manifest kept in a downloaded model folder. */
export const manifestFileName = '.latentcord-download.json';

/** One verified file of a downloaded model. */
export interface ManifestFile {
  /** Path relative to the model folder. */
  path: string;
  size: number;
  /** Content sha256 (LFS / Xet files). */
  sha256?: string | undefined;
  /** Git blob id (regular files). */
  gitOid?: string | undefined;
  /** Modification time when it was verified: a file touched since then is hashed again. */
  mtimeMs: number;
}

/** What `.latentcord-download.json` records about a model folder. */
export interface DownloadManifest {
  version: 1;
  repo: string;
  /** The commit id the files come from (the requested revision, resolved). */
  revision: string;
  /** The branch, tag or commit id that was asked for. */
  requestedRevision: string;
  /** Folder of the repository the model was taken from; `''` for the root. */
  subfolder: string;
  endpoint: string;
  /** False while a download is under way or after it stopped early. */
  complete: boolean;
  updatedAt: string;
  files: ManifestFile[];
}

/** Reads the manifest of a model folder; `undefined` when there is none or it is unreadable. */
export async function readManifest(dir: string): Promise<DownloadManifest | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, manifestFileName), 'utf8');
  } catch {
    return undefined;
  }
  try {
    const value = JSON.parse(text) as Partial<DownloadManifest>;
    if (value.version !== 1 || typeof value.repo !== 'string' || !Array.isArray(value.files)) return undefined;
    return value as DownloadManifest;
  } catch {
    return undefined;
  }
}

/** Writes the manifest atomically (temporary file, then rename). */
export async function writeManifest(dir: string, manifest: DownloadManifest): Promise<void> {
  const path = join(dir, manifestFileName);
  await writeFile(path + '.tmp', JSON.stringify(manifest, null, 2) + '\n');
  await rename(path + '.tmp', path);
}
