import { createHash } from 'node:crypto';
import { open, readdir, stat } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';

/** What routes a job to the workers that can run it: the model folder's name and a hash of its files. */
export interface ModelIdentity {
  /** The folder's name, e.g. `SimianLuo--LCM_Dreamshaper_v7`. */
  readonly name: string;
  /** 12 hex digits of the SHA-256 of the folder's manifest. */
  readonly hash: string;
  /** `name@hash`: what workers announce and jobs ask for. */
  readonly key: string;
  /** The BullMQ queue of this model (`model-<name>-<hash>`, characters BullMQ allows). */
  readonly queueName: string;
  /** Files and bytes that went into the hash. */
  readonly files: number;
  readonly bytes: number;
}

/** What the pipeline reads from a model folder; anything else in it (README, safety checker, …) is not hashed. */
const modelParts = ['model_index.json', 'scheduler', 'tokenizer', 'text_encoder', 'unet', 'vae_decoder', 'vae_encoder'];

/** Files up to this size are hashed whole (configs, tokenizer); larger ones by samples. */
const wholeFileLimit = 1 << 20;
const sampleCount = 16;
const sampleBytes = 64 * 1024;

async function filesUnder(path: string): Promise<string[]> {
  let info;
  try {
    info = await stat(path);
  } catch {
    return [];
  }
  if (info.isFile()) return [path];
  if (!info.isDirectory()) return [];
  const entries = await readdir(path);
  const nested = await Promise.all(entries.filter((entry) => !entry.startsWith('.')).map((entry) => filesUnder(join(path, entry))));
  return nested.flat();
}

/**
 * Content hash of one file: whole for small files; for weights (gigabytes) 16 samples of 64 KiB spread over
 * the file, which tells two fine-tunes of one architecture apart (their weights differ everywhere) while
 * reading about 1 MiB instead of the whole file.
 */
async function fileDigest(path: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const handle = await open(path, 'r');
  try {
    if (size <= wholeFileLimit) {
      hash.update(await handle.readFile());
    } else {
      const buffer = Buffer.alloc(sampleBytes);
      for (let i = 0; i < sampleCount; i++) {
        const position = Math.floor((i * (size - sampleBytes)) / (sampleCount - 1));
        const { bytesRead } = await handle.read(buffer, 0, sampleBytes, position);
        hash.update(buffer.subarray(0, bytesRead));
      }
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

/**
 * The identity of a model folder: its name and a hash of its manifest (each model file's path, size and
 * content digest, in a fixed order). Two copies of one model on different machines get the same identity;
 * a different or changed model gets another, so its jobs never reach workers that would draw something else.
 */
export async function modelIdentity(dir: string): Promise<ModelIdentity> {
  const files = (await Promise.all(modelParts.map((part) => filesUnder(join(dir, part))))).flat();
  const lines: string[] = [];
  let bytes = 0;
  for (const file of files) {
    const { size } = await stat(file);
    bytes += size;
    lines.push(`${relative(dir, file).split(sep).join('/')}\t${size}\t${await fileDigest(file, size)}`);
  }
  lines.sort();
  const hash = createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 12);
  const name = basename(dir);
  const safe = name.replace(/[^A-Za-z0-9._-]+/gu, '_').slice(0, 80);
  return { name, hash, key: `${name}@${hash}`, queueName: `model-${safe}-${hash}`, files: files.length, bytes };
}
