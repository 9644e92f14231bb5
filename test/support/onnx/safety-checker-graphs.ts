/**
 * Small graphs with the signature of diffusers' exported safety checker (`safety_checker/model.onnx`):
 * inputs `clip_input` `[batch, 3, 224, 224]` and `images` `[batch, height, width, 3]`, outputs `out_images`
 * and `has_nsfw_concepts` `[batch]` (bool). Instead of CLIP they decide with the mean of `clip_input`, so a
 * test can tell that the checker saw the preprocessed picture: `all` flags every picture, `none` none,
 * `bright` the pictures whose normalised pixel values average above zero (white yes, black no).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { castInput, float32Initializer, intAttribute, intsAttribute, makeNode, tensorValueInfo, type DimSpec } from './graph-edit.js';
import { writeModelFile } from './model-file.js';
import type { GraphProto } from './onnx-proto.js';
import { DataType } from './onnx-schema.js';

/** Options of {@link writeSafetyCheckerGraph}. */
export interface SafetyCheckerGraphOptions {
  /** Which pictures are flagged. */
  flags: 'all' | 'none' | 'bright';
  /** Both inputs declared float16 (an fp16 export). */
  float16?: boolean;
  /** Declared `clip_input` height and width (default symbolic, as diffusers exports it). */
  clipSide?: DimSpec;
  /** Leave out `has_nsfw_concepts` (a broken export). */
  omitVerdict?: boolean;
}

/** Writes a safety-checker-shaped graph to `path`. */
export function writeSafetyCheckerGraph(path: string, options: SafetyCheckerGraphOptions): void {
  const threshold = options.flags === 'all' ? -1e30 : options.flags === 'none' ? 1e30 : 0;
  const side = options.clipSide ?? 'height';
  const graph: GraphProto = {
    name: 'safety_checker',
    node: [
      makeNode('ReduceMean', ['clip_input'], ['mean'], 'mean', [intsAttribute('axes', [1, 2, 3]), intAttribute('keepdims', 0)]),
      makeNode('Greater', ['mean', 'threshold'], ['has_nsfw_concepts'], 'verdict'),
      makeNode('Identity', ['images'], ['out_images'], 'out_images'),
    ],
    initializer: [float32Initializer('threshold', [], [threshold])],
    input: [
      tensorValueInfo('clip_input', DataType.float, ['batch', 3, side, typeof side === 'string' ? 'width' : side]),
      tensorValueInfo('images', DataType.float, ['batch', 'height', 'width', 3]),
    ],
    output: [
      tensorValueInfo('out_images', DataType.float, ['batch', 'height', 'width', 3]),
      ...(options.omitVerdict ? [] : [tensorValueInfo('has_nsfw_concepts', DataType.bool, ['batch'])]),
    ],
    valueInfo: [],
  };
  if (options.float16) {
    castInput(graph, 'clip_input', DataType.float16);
    castInput(graph, 'images', DataType.float16);
  }
  writeModelFile(path, {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 13 }],
    producerName: 'latentcord-tests',
    graph,
    metadataProps: [],
  });
}

/** `feature_extractor/preprocessor_config.json` of CompVis' safety checker as Stable Diffusion 1.x repositories ship it. */
export const sdPreprocessorConfig = {
  crop_size: 224,
  do_center_crop: true,
  do_convert_rgb: true,
  do_normalize: true,
  do_resize: true,
  feature_extractor_type: 'CLIPFeatureExtractor',
  image_mean: [0.48145466, 0.4578275, 0.40821073],
  image_std: [0.26862954, 0.26130258, 0.27577711],
  resample: 3,
  size: 224,
};

/** Writes `safety_checker/model.onnx` and `feature_extractor/preprocessor_config.json` into a model folder. */
export function writeSafetyChecker(modelDir: string, options: SafetyCheckerGraphOptions, config: object = sdPreprocessorConfig): void {
  writeSafetyCheckerGraph(join(modelDir, 'safety_checker', 'model.onnx'), options);
  const configPath = join(modelDir, 'feature_extractor', 'preprocessor_config.json');
  mkdirSync(dirname(configPath), { recursive: true });
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`);
}
