import { UserError } from '../errors.js';

/** One file of a repository listing, as the Hub's tree API reports it (directories are left out). */
export interface RepoFile {
  /** Path inside the repository, `/`-separated. */
  path: string;
  /** Size in bytes of the file's content (for LFS files the real content, not the pointer). */
  size: number;
  /** Git blob id (sha1 of `blob <size>\0<content>`); for LFS files the pointer's blob id. */
  oid?: string | undefined;
  /** Present for files stored with Git LFS (or Xet): `oid` is the sha256 of the content. */
  lfs?: { oid: string; size: number } | undefined;
  /** Xet content hash, for files stored with Xet. */
  xetHash?: string | undefined;
}

/** A file the pipeline needs, with its place in the repository and in the model folder. */
export interface SelectedFile extends RepoFile {
  /** Path relative to the model folder (the repository path without the subfolder). */
  localPath: string;
}

/** Where the model sits in a repository and which of its files to fetch. */
export interface ModelSelection {
  /** Folder inside the repository holding `model_index.json`; `''` for the repository root. */
  subfolder: string;
  /** Files to fetch, sorted by `localPath`. */
  files: SelectedFile[];
}

/**
 * Components whose graph is `<component>/model.onnx`; `vae_encoder` is optional (img2img only), `text_encoder_2`
 * is SDXL's second text encoder, and `safety_checker` is optional too, fetched only together with the
 * preprocessing config it needs.
 */
const onnxComponents = ['text_encoder', 'text_encoder_2', 'unet', 'vae_decoder', 'vae_encoder', 'safety_checker'] as const;

/** The safety checker's image preprocessing (transformers' `CLIPImageProcessor`). */
const safetyCheckerConfig = 'feature_extractor/preprocessor_config.json';

/** What an SDXL folder (one with `text_encoder_2/model.onnx`) needs beyond the SD layout: its second tokenizer. */
const sdxlRequiredFiles = ['tokenizer_2/vocab.json', 'tokenizer_2/merges.txt'] as const;

/** `required` with a tokenizer folder's vocab.json + merges.txt replaced by its tokenizer.json when only that is listed. */
function withFastTokenizers(required: readonly string[], present: ReadonlyMap<string, RepoFile>): string[] {
  return required.flatMap((path) => {
    const [folder, name] = path.split('/') as [string, string];
    if (!folder.startsWith('tokenizer') || !(slowTokenizerFiles as readonly string[]).includes(name)) return [path];
    const fast = `${folder}/tokenizer.json`;
    const slowListed = slowTokenizerFiles.some((file) => present.has(`${folder}/${file}`));
    if (slowListed || !present.has(fast)) return [path];
    return name === 'vocab.json' ? [fast] : [];
  });
}
const sdxlOptionalFiles = ['tokenizer_2/tokenizer_config.json', 'tokenizer_2/special_tokens_map.json'] as const;

const requiredFiles = [
  'model_index.json',
  'scheduler/scheduler_config.json',
  'tokenizer/vocab.json',
  'tokenizer/merges.txt',
  'text_encoder/model.onnx',
  'unet/model.onnx',
  'vae_decoder/model.onnx',
] as const;

const optionalFiles = ['tokenizer/tokenizer_config.json', 'tokenizer/special_tokens_map.json'] as const;

/** A tokenizer folder may hold a `tokenizer.json` instead of (or beside) vocab.json and merges.txt. */
const slowTokenizerFiles = ['vocab.json', 'merges.txt'] as const;

/**
 * Extensions never fetched from a component folder even though they sit beside `model.onnx`: PyTorch /
 * Flax / TF weights, pictures and documents. Anything else there that is not an `.onnx` graph is taken
 * to be ONNX external data (`model.onnx_data`, `weights.pb`, one file per tensor...).
 */
const excludedExtensions: ReadonlySet<string> = new Set([
  'safetensors',
  'bin',
  'ckpt',
  'pt',
  'pth',
  'msgpack',
  'h5',
  'onnx',
  'md',
  'txt',
  'png',
  'jpg',
  'jpeg',
  'webp',
  'gif',
  'bmp',
  'svg',
]);

/**
 * Finds the diffusers ONNX Stable Diffusion folder in a repository listing and picks the files the
 * pipeline needs, and the safety checker (`safety_checker/` and `feature_extractor/preprocessor_config.json`)
 * when the repository has both. With no `subfolder` the repository root is used when it holds `model_index.json`,
 * else the single folder that does.
 *
 * @throws UserError `hub.notOnnxLayout` naming what is missing, `hub.ambiguousLayout` when several
 *   folders hold a `model_index.json` and no subfolder was given.
 */
export function selectModelFiles(listing: readonly RepoFile[], repo: string, subfolder?: string): ModelSelection {
  const root = subfolder === undefined ? detectSubfolder(listing, repo) : normalizeSubfolder(subfolder);
  const prefix = root === '' ? '' : root + '/';
  const byLocalPath = new Map<string, RepoFile>();
  for (const file of listing) {
    if (file.path.startsWith(prefix)) byLocalPath.set(file.path.slice(prefix.length), file);
  }

  const xl = byLocalPath.has('text_encoder_2/model.onnx');
  const required = withFastTokenizers(xl ? [...requiredFiles, ...sdxlRequiredFiles] : requiredFiles, byLocalPath);
  const optional = xl ? [...optionalFiles, ...sdxlOptionalFiles] : optionalFiles;
  const missing = required.filter((path) => !byLocalPath.has(path));
  if (missing.length > 0) throw notOnnxLayout(repo, root, missing, byLocalPath);

  const wanted = new Set<string>([...required, ...optional.filter((path) => byLocalPath.has(path))]);
  const hasSafetyChecker = byLocalPath.has('safety_checker/model.onnx') && byLocalPath.has(safetyCheckerConfig);
  if (hasSafetyChecker) wanted.add(safetyCheckerConfig);
  for (const component of onnxComponents) {
    if (!byLocalPath.has(`${component}/model.onnx`)) continue;
    if (component === 'safety_checker' && !hasSafetyChecker) continue;
    for (const localPath of byLocalPath.keys()) {
      const slash = localPath.indexOf('/');
      if (slash < 0 || localPath.slice(0, slash) !== component) continue;
      const name = localPath.slice(slash + 1);
      if (name === 'model.onnx' || name === 'config.json' || isExternalData(name)) wanted.add(localPath);
    }
  }

  const files: SelectedFile[] = [];
  for (const localPath of [...wanted].sort()) {
    const file = byLocalPath.get(localPath);
    if (file) files.push({ ...file, localPath });
  }
  return { subfolder: root, files };
}

/** True when a file name directly inside a component folder looks like ONNX external tensor data. */
function isExternalData(name: string): boolean {
  if (name.includes('/') || name.startsWith('.') || /^readme/i.test(name)) return false;
  if (name === 'config.json' || name.endsWith('.json')) return false;
  const dot = name.lastIndexOf('.');
  const extension = dot < 0 ? '' : name.slice(dot + 1).toLowerCase();
  return !excludedExtensions.has(extension);
}

function normalizeSubfolder(subfolder: string): string {
  const trimmed = subfolder.replace(/^\/+|\/+$/g, '');
  if (trimmed.split('/').some((part) => part === '..' || part === '.')) {
    throw new UserError('hub.badSubfolder', `The subfolder "${subfolder}" must be a plain folder path inside the repository.`);
  }
  return trimmed;
}

function detectSubfolder(listing: readonly RepoFile[], repo: string): string {
  const candidates = listing
    .filter((file) => file.path === 'model_index.json' || file.path.endsWith('/model_index.json'))
    .map((file) => file.path.slice(0, Math.max(0, file.path.length - 'model_index.json'.length - 1)))
    .sort();
  if (candidates.includes('')) return '';
  if (candidates.length === 1) return candidates[0]!;
  if (candidates.length > 1) {
    throw new UserError(
      'hub.ambiguousLayout',
      `The repository ${repo} holds several model folders (${candidates.map((c) => `"${c}"`).join(', ')}); ` +
        'choose one with the subfolder option (--subfolder).',
    );
  }
  return '';
}

function notOnnxLayout(repo: string, root: string, missing: readonly string[], present: ReadonlyMap<string, RepoFile>): UserError {
  const where = root === '' ? repo : `${repo} (folder "${root}")`;
  const pytorch = [...present.keys()].some((path) => path.startsWith('unet/') && /\.(safetensors|bin|ckpt)$/.test(path));
  const hint = pytorch
    ? ' It holds PyTorch weights instead: pick an ONNX export of this model (often a branch named "onnx" or a folder named "onnx").'
    : ' A diffusers ONNX Stable Diffusion folder has model_index.json, scheduler/, tokenizer/, text_encoder/, unet/ and vae_decoder/ with model.onnx files (SDXL also text_encoder_2/ and tokenizer_2/).';
  return new UserError(
    'hub.notOnnxLayout',
    `${where} is not a diffusers ONNX Stable Diffusion model: missing ${missing.join(', ')}.${hint}`,
  );
}
