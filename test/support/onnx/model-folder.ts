/**
 * A complete diffusers-ONNX model folder (configs, tokenizer, scheduler, four models) copied from the tiny
 * fixture model, with chosen components replaced by variants, for pipeline-level tests.
 */
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { tinyModelDir } from '../../helpers/fixtures.js';
import {
  textEncoderFloat16Output,
  textEncoderInt64InputIds,
  textEncoderRenamedOutput,
  textEncoderWithoutHiddenStates,
  truncatedModel,
  unetFloat16,
  unetRenamedInput,
  unetTimestepBatch,
  unetTimestepCond,
  unetFixedSequence,
  unetTimestepFloat16,
  unetTimestepInt64,
  unetTimestepScalar,
  vaeDecoderFloat16,
  vaeEncoderFloat16,
  vaeEncoderLatentSample,
  withExternalData,
} from './variants.js';

/** Component folders of the diffusers ONNX layout that hold a `model.onnx` (`text_encoder_2` in SDXL folders only). */
export type ComponentName = 'text_encoder' | 'text_encoder_2' | 'unet' | 'vae_encoder' | 'vae_decoder';

/** All components, in pipeline order. */
export const componentNames: readonly ComponentName[] = ['text_encoder', 'text_encoder_2', 'unet', 'vae_encoder', 'vae_decoder'];

/** A variant builder: reads the model at `source`, writes the variant model at `target`. */
export type VariantBuilder = (source: string, target: string) => unknown;

/** The named variants of each component (each a builder with default options). */
export const componentVariants = {
  text_encoder: {
    int64InputIds: textEncoderInt64InputIds,
    float16Output: textEncoderFloat16Output,
    renamedOutput: textEncoderRenamedOutput,
    withoutHiddenStates: textEncoderWithoutHiddenStates,
    externalData: withExternalData,
    truncated: truncatedModel,
  },
  text_encoder_2: {
    int64InputIds: textEncoderInt64InputIds,
    float16Output: textEncoderFloat16Output,
    withoutHiddenStates: textEncoderWithoutHiddenStates,
    externalData: withExternalData,
    truncated: truncatedModel,
  },
  unet: {
    timestepInt64: unetTimestepInt64,
    timestepScalar: unetTimestepScalar,
    timestepFloat16: unetTimestepFloat16,
    timestepBatch: unetTimestepBatch,
    float16: unetFloat16,
    timestepCond: unetTimestepCond,
    fixedSequence: unetFixedSequence,
    renamedInput: unetRenamedInput,
    externalData: withExternalData,
    truncated: truncatedModel,
  },
  vae_encoder: {
    latentSample: vaeEncoderLatentSample,
    float16: vaeEncoderFloat16,
    externalData: withExternalData,
    truncated: truncatedModel,
  },
  vae_decoder: {
    float16: vaeDecoderFloat16,
    externalData: withExternalData,
    truncated: truncatedModel,
  },
} as const satisfies Record<ComponentName, Record<string, VariantBuilder>>;

/** Variant names available for component `C`. */
export type VariantName<C extends ComponentName> = keyof (typeof componentVariants)[C] & string;

/**
 * What to do with one component: a named variant, a custom builder, or several applied in order (each
 * reading the previous one's output; `externalData` and `truncated` only as the last step).
 */
export type ComponentVariantSpec<C extends ComponentName> = VariantName<C> | VariantBuilder | readonly (VariantName<C> | VariantBuilder)[];

/** Options of {@link makeVariantModelFolder}. */
export interface VariantModelFolderOptions {
  /** Model folder to copy (default: the tiny fixture model `test/fixtures/tiny-sd`; `tinySdxlModelDir` for SDXL). */
  source?: string;
  /** Variant of `text_encoder/model.onnx` (default: copied as is). */
  textEncoder?: ComponentVariantSpec<'text_encoder'>;
  /** Variant of `text_encoder_2/model.onnx` (SDXL folders; default: copied as is). */
  textEncoder2?: ComponentVariantSpec<'text_encoder_2'>;
  /** Variant of `unet/model.onnx` (default: copied as is). */
  unet?: ComponentVariantSpec<'unet'>;
  /** Variant of `vae_encoder/model.onnx` (default: copied as is). */
  vaeEncoder?: ComponentVariantSpec<'vae_encoder'>;
  /** Variant of `vae_decoder/model.onnx` (default: copied as is). */
  vaeDecoder?: ComponentVariantSpec<'vae_decoder'>;
  /** Components whose whole folder is left out (for "missing component" tests). */
  omit?: readonly ComponentName[];
}

/** The folder {@link makeVariantModelFolder} wrote. */
export interface VariantModelFolder {
  /** The model folder (the `targetDir` argument). */
  dir: string;
  /** Path of each component's `model.onnx`; absent for omitted components. */
  models: Partial<Record<ComponentName, string>>;
}

/** A spec with the variant names unchecked (they are checked against the catalogue when resolved). */
type AnySpec = string | VariantBuilder | readonly (string | VariantBuilder)[];

function specFor(options: VariantModelFolderOptions, component: ComponentName): AnySpec | undefined {
  switch (component) {
    case 'text_encoder':
      return options.textEncoder;
    case 'text_encoder_2':
      return options.textEncoder2;
    case 'unet':
      return options.unet;
    case 'vae_encoder':
      return options.vaeEncoder;
    case 'vae_decoder':
      return options.vaeDecoder;
  }
}

function resolveStep(component: ComponentName, step: string | VariantBuilder): { name: string; build: VariantBuilder } {
  if (typeof step === 'function') return { name: step.name || 'custom', build: step };
  const build = (componentVariants[component] as Record<string, VariantBuilder>)[step];
  if (build === undefined) {
    throw new Error(`unknown ${component} variant "${step}" (known: ${Object.keys(componentVariants[component]).join(', ')})`);
  }
  return { name: step, build };
}

/** Builds one component's model at `target` from `source` through the chain of steps. */
function buildComponent(component: ComponentName, spec: AnySpec, source: string, target: string): void {
  const steps = (typeof spec === 'string' || typeof spec === 'function' ? [spec] : [...spec]).map((s) => resolveStep(component, s));
  if (steps.length === 0) throw new Error(`empty variant list for ${component}`);
  const lastOnly = new Set<VariantBuilder>([withExternalData, truncatedModel]);
  const scratch = steps.length > 1 ? mkdtempSync(join(tmpdir(), 'latentcord-variant-')) : undefined;
  try {
    let current = source;
    steps.forEach((step, i) => {
      const last = i === steps.length - 1;
      if (!last && lastOnly.has(step.build)) throw new Error(`${component} variant "${step.name}" can only be the last step`);
      const next = last ? target : join(scratch ?? '', `step-${i}.onnx`);
      step.build(current, next);
      current = next;
    });
  } finally {
    if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * Copies a diffusers ONNX model folder (by default the tiny fixture model: `model_index.json`,
 * scheduler, tokenizer, every component's `config.json` and `model.onnx`) into `targetDir` and replaces
 * the chosen components' `model.onnx` with variants.
 *
 * @example makeVariantModelFolder(dir, { unet: 'float16', vaeEncoder: ['latentSample', 'externalData'] })
 */
export function makeVariantModelFolder(targetDir: string, options: VariantModelFolderOptions = {}): VariantModelFolder {
  const source = options.source ?? tinyModelDir;
  const omitted = new Set(options.omit ?? []);
  const replaced = new Set(componentNames.filter((c) => specFor(options, c) !== undefined));
  for (const component of replaced) {
    if (omitted.has(component)) throw new Error(`${component} is both omitted and given a variant`);
  }
  mkdirSync(targetDir, { recursive: true });
  cpSync(source, targetDir, {
    recursive: true,
    filter: (from) => {
      const relative = from
        .slice(source.length)
        .split(/[\\/]/)
        .filter((p) => p !== '');
      const component = relative[0] as ComponentName | undefined;
      if (component !== undefined && omitted.has(component)) return false;
      const isReplacedModel =
        relative.length === 2 && basename(from) === 'model.onnx' && component !== undefined && replaced.has(component);
      return !isReplacedModel;
    },
  });
  const models: Partial<Record<ComponentName, string>> = {};
  for (const component of componentNames) {
    if (omitted.has(component)) continue;
    const spec = specFor(options, component);
    if (!existsSync(join(source, component, 'model.onnx'))) {
      if (spec !== undefined) throw new Error(`${source} has no ${component} to make a variant of`);
      continue;
    }
    const target = join(targetDir, component, 'model.onnx');
    if (spec !== undefined) buildComponent(component, spec, join(source, component, 'model.onnx'), target);
    models[component] = target;
  }
  return { dir: targetDir, models };
}
