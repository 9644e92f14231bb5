import { decodeRgb, encodePng, formatInfotext } from '../image/index.js';
import type { EmphasisMode, GeneratedImage } from '../pipeline/stable-diffusion.js';
import type { RngKind } from '../random/index.js';
import { schedulerLabelOrName } from '../schedulers/index.js';
import type { JobSpec } from '../store/index.js';

/** What a PNG records besides the job's own parameters: how the noise was made and by which model. */
export interface OutputContext {
  readonly rng: RngKind;
  readonly modelName: string;
  /** A1111's name of a decoder other than the model's full VAE (`TAESD`), written as `VAE Decoder`. */
  readonly vaeDecoder?: string;
}

/** A1111's names of the emphasis modes (its "Emphasis mode" option and infotext key). */
const a1111EmphasisNames: Record<EmphasisMode, string> = { original: 'Original', 'no-norm': 'No norm', off: 'None' };

/**
 * A1111 records a non-default emphasis mode, and only when a prompt has a bracket it could apply to, so that
 * PNG Info restores the mode the picture needs (`modules/sd_hijack_clip.py`).
 */
function emphasisEntry(job: PngJobFields): { Emphasis?: string } {
  const bracketed = [job.prompt, job.negativePrompt].some((text) => text.includes('(') || text.includes('['));
  return job.emphasis !== 'original' && bracketed ? { Emphasis: a1111EmphasisNames[job.emphasis] } : {};
}

/** The parts of a job its PNGs record (a remote worker rebuilds them from the pipeline's call). */
export type PngJobFields = Pick<
  JobSpec,
  'prompt' | 'negativePrompt' | 'steps' | 'scheduler' | 'guidance' | 'seed' | 'kind' | 'strength' | 'emphasis' | 'operation'
>;

/**
 * How an Upscale ×2 in `hires` mode is recorded: as A1111's hires fix (`Hires upscale: 2, Hires upscaler:
 * Lanczos`), whose `Size` is the first pass's — the picture before it was scaled — and whose `Denoising
 * strength` is the second pass's.
 */
const hiresUpscale = { factor: 2, upscaler: 'Lanczos' } as const;

/**
 * AUTOMATIC1111's `parameters` text for image `index` of a job with `count` images. Several images of one
 * job come from one generator, so reproducing image 2 needs the batch: A1111's `Batch size`/`Batch pos`.
 */
export function infotextFor(
  job: PngJobFields,
  output: OutputContext,
  image: { width: number; height: number },
  index: number,
  count: number,
): string {
  const hires = job.operation === 'upscale-hires';
  return formatInfotext({
    prompt: job.prompt,
    negativePrompt: job.negativePrompt,
    steps: job.steps,
    sampler: schedulerLabelOrName(job.scheduler),
    cfgScale: job.guidance,
    seed: BigInt(job.seed),
    width: hires ? image.width / hiresUpscale.factor : image.width,
    height: hires ? image.height / hiresUpscale.factor : image.height,
    model: output.modelName,
    ...(job.kind === 'remix' ? { denoisingStrength: job.strength } : {}),
    extra: {
      ...emphasisEntry(job),
      ...(output.vaeDecoder ? { 'VAE Decoder': output.vaeDecoder } : {}),
      RNG: output.rng === 'cpu' ? 'CPU' : 'NV',
      ...(count > 1 ? { 'Batch size': count, 'Batch pos': index } : {}),
      ...(hires ? { 'Hires upscale': hiresUpscale.factor, 'Hires upscaler': hiresUpscale.upscaler } : {}),
    },
  });
}

/** Encodes a job's images as PNGs carrying their `parameters` text. */
export async function renderPngs(images: readonly GeneratedImage[], job: PngJobFields, output: OutputContext): Promise<Buffer[]> {
  return Promise.all(images.map((image, index) => encodePng(image, { parameters: infotextFor(job, output, image, index, images.length) })));
}

/**
 * Writes a job's `parameters` text into PNGs made elsewhere (a remote worker, which knows the pipeline's call
 * but not what the job was for, such as an Upscale ×2 recorded as A1111's hires fix): decodes and encodes them
 * again with the text {@link infotextFor} gives.
 */
export async function rerecordPngs(pngs: readonly Buffer[], job: PngJobFields, output: OutputContext): Promise<Buffer[]> {
  const images = await Promise.all(pngs.map(async (png) => (await decodeRgb(png, { maxPixels: Number.MAX_SAFE_INTEGER })).image));
  return renderPngs(images, job, output);
}
