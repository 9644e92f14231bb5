/**
 * AUTOMATIC1111's "infotext": the `parameters` text stored in its PNGs and shown under its pictures, e.g.
 *
 * ```
 * a castle on a hill
 * Negative prompt: lowres
 * Steps: 20, Sampler: Euler, Schedule type: Karras, CFG scale: 7.5, Seed: 42, Size: 512x512, Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Denoising strength: 0.7, Version: v1.10.1
 * ```
 *
 * Ported from stable-diffusion-webui `modules/processing.py` (`create_infotext`) and `modules/infotext_utils.py`
 * (`quote`, `unquote`, `parse_generation_parameters`).
 */

/** What {@link formatInfotext} writes. */
export interface InfotextParams {
  prompt: string;
  /** Omitted from the text when empty. */
  negativePrompt?: string;
  steps: number;
  /** A1111 sampler name, e.g. `Euler`, `Euler a`, `DPM++ 2M`, `DDIM`, `LCM`. */
  sampler: string;
  /** A1111 schedule type, e.g. `Automatic`, `Karras`, `Uniform`. */
  scheduleType?: string;
  cfgScale: number;
  seed: number | bigint;
  width: number;
  height: number;
  modelHash?: string;
  model?: string;
  /** Image-to-image strength. */
  denoisingStrength?: number;
  /**
   * More `Key: value` pairs (A1111's `extra_generation_params`), written after the standard ones in this order;
   * a key that is one of A1111's standard keys (e.g. `Clip skip`, `RNG`) takes that key's standard place.
   */
  extra?: Record<string, string | number>;
  /** Written last, as `Version: …`. */
  version?: string;
}

/** What {@link parseInfotext} reads back. */
export interface ParsedInfotext {
  prompt: string;
  negativePrompt: string;
  /** Every `Key: value` pair of the parameters line, in order, values unquoted (`Size` stays `"512x512"`). */
  params: Record<string, string>;
  steps?: number;
  sampler?: string;
  scheduleType?: string;
  cfgScale?: number;
  seed?: number | bigint;
  width?: number;
  height?: number;
  modelHash?: string;
  model?: string;
  denoisingStrength?: number;
  version?: string;
  /** The pairs of `params` that none of the fields above took, in order. */
  extra: Record<string, string>;
}

/** The keys of A1111's `generation_params` literal in its order, before `**p.extra_generation_params`. */
const STANDARD_KEYS = [
  'Steps',
  'Sampler',
  'Schedule type',
  'CFG scale',
  'Image CFG scale',
  'Seed',
  'Face restoration',
  'Size',
  'Model hash',
  'Model',
  'FP8 weight',
  'Cache FP16 weight for LoRA',
  'VAE hash',
  'VAE',
  'Variation seed',
  'Variation seed strength',
  'Seed resize from',
  'Denoising strength',
  'Conditional mask weight',
  'Clip skip',
  'ENSD',
  'Token merging ratio',
  'Token merging ratio hr',
  'Init image hash',
  'RNG',
  'Tiling',
] as const;

/** The keys A1111 writes after the extra parameters. */
const TRAILING_KEYS = ['Version', 'User'] as const;

/** The fields of {@link ParsedInfotext} and the keys they come from. */
const TYPED_KEYS = {
  Steps: 'steps',
  Sampler: 'sampler',
  'Schedule type': 'scheduleType',
  'CFG scale': 'cfgScale',
  Seed: 'seed',
  Size: 'size',
  'Model hash': 'modelHash',
  Model: 'model',
  'Denoising strength': 'denoisingStrength',
  Version: 'version',
} as const;

/** Characters Python's `str.isspace()` accepts (what `str.strip()` removes). */
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');

/** Python's `str.strip()` without arguments. */
function pyStrip(text: string): string {
  return text.replace(PY_STRIP, '');
}

/**
 * A1111's `re_param`, `\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)`, with Python's Unicode `\w` and `\s`
 * spelled out (JavaScript's differ) and `.` allowed to match `\r` as Python's does.
 */
const RE_PARAM = new RegExp(
  `[${PY_SPACE}]*([\\p{L}\\p{N}_][\\p{L}\\p{N}_ \\-/]+):[${PY_SPACE}]*("(?:\\\\[^\\n]|[^\\\\"])+"|[^,]*)(?:,|$)`,
  'gu',
);

/**
 * Python's `str()` of a number as A1111 would hold it: integral values as an `int` (`7`, not `7.0`, which is what
 * A1111 writes for the integral values its UI sends), others as a float's `repr` (shortest round-trip digits,
 * exponent form below 1e-4: `1e-05`, `1.25e-05`).
 */
export function pythonNumberString(value: number | bigint): string {
  if (typeof value === 'bigint') return value.toString();
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value > 0 ? 'inf' : '-inf';
  if (Number.isInteger(value)) return BigInt(value).toString();
  const [mantissa, exponentText] = value.toExponential().split('e') as [string, string];
  const exponent = Number(exponentText);
  if (exponent < -4 || exponent >= 16) return `${mantissa}e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
  const digits = mantissa.replace('-', '').replace('.', '');
  const sign = value < 0 ? '-' : '';
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  return `${sign}${digits.slice(0, exponent + 1)}.${digits.slice(exponent + 1)}`;
}

function valueString(value: string | number | bigint): string {
  return typeof value === 'string' ? value : pythonNumberString(value);
}

/**
 * A1111's `quote`: a value containing `,`, `:` or a newline is written as a JSON string (`json.dumps(...,
 * ensure_ascii=False)`, which escapes what `JSON.stringify` escapes). One addition: a value that begins and ends
 * with `"` is quoted too, because A1111's parser would otherwise unquote it (A1111 itself writes such a value bare
 * and reads back something else).
 */
export function quoteInfotextValue(value: string): string {
  const needsQuotes =
    value.includes(',') ||
    value.includes('\n') ||
    value.includes(':') ||
    (value.length >= 2 && value.startsWith('"') && value.endsWith('"'));
  return needsQuotes ? JSON.stringify(value) : value;
}

/** A1111's `unquote`: JSON-decodes a `"…"` value, or returns it unchanged when that fails. */
export function unquoteInfotextValue(text: string): string {
  if (text.length === 0 || !text.startsWith('"') || !text.endsWith('"')) return text;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'string' ? value : text;
  } catch {
    return text;
  }
}

/**
 * Writes AUTOMATIC1111's infotext for one picture: the prompt, `Negative prompt: …` when there is one, then the
 * parameters line `Key: value, …` in A1111's key order (Steps, Sampler, Schedule type, CFG scale, Seed, Size,
 * Model hash, Model, Denoising strength, extras, Version), absent values left out, values quoted as A1111 quotes
 * them, numbers as Python's `str()` writes them. A pair whose value equals its key is written as the bare key (as
 * A1111 does). The whole text is stripped of surrounding whitespace, as A1111 does.
 */
export function formatInfotext(p: InfotextParams): string {
  const pairs = new Map<string, string | undefined>();
  for (const key of STANDARD_KEYS) pairs.set(key, undefined);
  const set = (key: string, value: string | number | bigint | undefined): void => {
    if (value !== undefined) pairs.set(key, valueString(value));
  };
  set('Steps', p.steps);
  set('Sampler', p.sampler);
  set('Schedule type', p.scheduleType);
  set('CFG scale', p.cfgScale);
  set('Seed', p.seed);
  set('Size', `${p.width}x${p.height}`);
  set('Model hash', p.modelHash);
  set('Model', p.model);
  set('Denoising strength', p.denoisingStrength);
  const trailing = new Map<string, string>();
  for (const [key, value] of Object.entries(p.extra ?? {})) {
    if ((TRAILING_KEYS as readonly string[]).includes(key)) trailing.set(key, valueString(value));
    else set(key, value);
  }
  if (p.version !== undefined) trailing.set('Version', p.version);
  for (const key of TRAILING_KEYS) set(key, trailing.get(key));
  const parameters = [...pairs]
    .flatMap(([key, value]) => (value === undefined ? [] : [key === value ? key : `${key}: ${quoteInfotextValue(value)}`]))
    .join(', ');
  const negative = p.negativePrompt ? `\nNegative prompt: ${p.negativePrompt}` : '';
  return pyStrip(`${p.prompt}${negative}\n${parameters}`);
}

function toNumber(text: string): number | undefined {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(text.trim())) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

function toInteger(text: string): number | bigint | undefined {
  if (!/^[+-]?\d+$/.test(text.trim())) return undefined;
  const big = BigInt(text.trim());
  return big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : big;
}

/**
 * Reads an infotext the way A1111's `parse_generation_parameters` does: the text is stripped and split into
 * lines; the last line is the parameters line only if A1111's `Key: value` pattern matches it at least 3 times
 * (otherwise it belongs to the prompt); every other line is stripped, lines before `Negative prompt:` form the
 * prompt and the rest the negative prompt (joined with `\n`); `"…"` values are JSON-unquoted; a key with an empty
 * value is dropped (A1111 fails on it and skips it). A1111's UI defaults (`Clip skip: 1`, ...) are not added and
 * `Size` is not split into `Size-1`/`Size-2`; `width`/`height` come from it instead.
 */
export function parseInfotext(text: string): ParsedInfotext {
  const allLines = pyStrip(text).split('\n');
  let lastLine = allLines.pop() ?? '';
  const lines = allLines;
  if ([...lastLine.matchAll(RE_PARAM)].length < 3) {
    lines.push(lastLine);
    lastLine = '';
  }
  let prompt = '';
  let negativePrompt = '';
  let doneWithPrompt = false;
  for (const rawLine of lines) {
    let line = pyStrip(rawLine);
    if (line.startsWith('Negative prompt:')) {
      doneWithPrompt = true;
      line = pyStrip(line.slice(16));
    }
    if (doneWithPrompt) negativePrompt += (negativePrompt === '' ? '' : '\n') + line;
    else prompt += (prompt === '' ? '' : '\n') + line;
  }
  const params: Record<string, string> = {};
  for (const match of lastLine.matchAll(RE_PARAM)) {
    const key = match[1]!;
    const raw = match[2]!;
    if (raw === '') continue;
    params[key] = raw.startsWith('"') && raw.endsWith('"') ? unquoteInfotextValue(raw) : raw;
  }
  const parsed: ParsedInfotext = { prompt, negativePrompt, params, extra: {} };
  for (const [key, value] of Object.entries(params)) {
    const field = (TYPED_KEYS as Record<string, string>)[key];
    if (!readTyped(parsed, field, value)) parsed.extra[key] = value;
  }
  return parsed;
}

function readTyped(parsed: ParsedInfotext, field: string | undefined, value: string): boolean {
  switch (field) {
    case 'steps': {
      const steps = toInteger(value);
      if (typeof steps !== 'number') return false;
      parsed.steps = steps;
      return true;
    }
    case 'seed': {
      const seed = toInteger(value);
      if (seed === undefined) return false;
      parsed.seed = seed;
      return true;
    }
    case 'cfgScale':
    case 'denoisingStrength': {
      const number = toNumber(value);
      if (number === undefined) return false;
      parsed[field] = number;
      return true;
    }
    case 'size': {
      const size = /^(\d+)x(\d+)$/.exec(value);
      if (size === null) return false;
      parsed.width = Number(size[1]);
      parsed.height = Number(size[2]);
      return true;
    }
    case 'sampler':
    case 'scheduleType':
    case 'modelHash':
    case 'model':
    case 'version':
      parsed[field] = value;
      return true;
    default:
      return false;
  }
}
