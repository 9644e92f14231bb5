import { encodePng, formatInfotext } from '../image/index.js';
import type { GeneratedImage } from '../pipeline/stable-diffusion.js';
import type { RngKind } from '../random/index.js';
import { schedulerLabel, type SchedulerName } from '../schedulers/index.js';

/** What the `parameters` text of a PNG records about its job. */
export interface OutputParameters {
  readonly prompt: string;
  readonly negativePrompt: string;
  readonly steps: number;
  readonly guidance: number;
  readonly scheduler: SchedulerName;
  readonly seed: string;
  readonly rng: RngKind;
  /** Set for image-to-image. */
  readonly strength?: number;
  readonly modelName: string;
}

/**
 * AUTOMATIC1111's `parameters` text for image `index` of a job with `count` images. Several images of one
 * job come from one generator, so reproducing image 2 needs the batch: A1111's `Batch size`/`Batch pos`.
 */
export function infotextFor(parameters: OutputParameters, image: { width: number; height: number }, index: number, count: number): string {
  return formatInfotext({
    prompt: parameters.prompt,
    negativePrompt: parameters.negativePrompt,
    steps: parameters.steps,
    sampler: schedulerLabel(parameters.scheduler),
    cfgScale: parameters.guidance,
    seed: BigInt(parameters.seed),
    width: image.width,
    height: image.height,
    model: parameters.modelName,
    ...(parameters.strength !== undefined ? { denoisingStrength: parameters.strength } : {}),
    extra: {
      RNG: parameters.rng === 'cpu' ? 'CPU' : 'NV',
      ...(count > 1 ? { 'Batch size': count, 'Batch pos': index } : {}),
    },
  });
}

/** Encodes a job's images as PNGs carrying their `parameters` text. */
export async function renderPngs(images: readonly GeneratedImage[], parameters: OutputParameters): Promise<Buffer[]> {
  return Promise.all(images.map((image, index) => encodePng(image, { parameters: infotextFor(parameters, image, index, images.length) })));
}
