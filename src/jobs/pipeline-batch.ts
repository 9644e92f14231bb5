import { readModelFolder } from '../model/model-folder.js';
import { conditioningChunkCount } from '../pipeline/prompt-conditioning.js';
import type { BatchParameters, GenerationJob, InitImage, PipelineDescription } from '../pipeline/stable-diffusion.js';
import type { RngKind } from '../random/index.js';
import { isSchedulerName } from '../schedulers/index.js';
import type { JobSpec } from '../store/index.js';
import { ClipTokenizer } from '../tokenizer/index.js';

/** One job on its way to the pipeline: its parameters, and the prepared source picture of a remix. */
export interface PipelineInput {
  readonly job: JobSpec;
  /** Required for a remix (its size is the job's size); absent for `imagine`. */
  readonly initImage?: InitImage | undefined;
}

/**
 * Jobs with equal keys can share a UNet batch: same kind, size, steps, scheduler and (for remixes)
 * strength, classifier-free guidance on for all or off for all (the model input's layout depends on it), and
 * text conditionings of the same length in 77-token chunks (`promptChunks`, see {@link promptChunkCounter}):
 * padding one job's prompt to another's length would change its pictures.
 */
export function batchKeyOf(job: JobSpec, promptChunks = 1): string {
  const guided = job.guidance > 1 ? 'cfg' : 'nocfg';
  const strength = job.kind === 'remix' ? `:${job.strength}` : '';
  return `${job.kind}:${job.width}x${job.height}:${job.steps}:${job.scheduler}:${guided}${strength}:${promptChunks}`;
}

/**
 * Counts the 77-token chunks of a job's text conditioning as the pipeline will, from the model's tokenizer
 * alone (the graphs live in the pipeline process): the longer of prompt and negative prompt with classifier-free
 * guidance, the prompt's without.
 */
export function promptChunkCounter(modelDir: string, model: Pick<PipelineDescription, 'timestepCondDim'>): (job: JobSpec) => number {
  const tokenizer = ClipTokenizer.fromFolder(readModelFolder(modelDir).tokenizerDir);
  // LCM-distilled UNets take the guidance scale as an embedding: no negative rows.
  const guidanceEmbedded = model.timestepCondDim !== undefined;
  return (job) => conditioningChunkCount(tokenizer, job, job.guidance > 1 && !guidanceEmbedded);
}

/**
 * The pipeline's call for jobs that share one batch: each job's own part (prompt, guidance, seed, images,
 * source picture) and the part they share. The bot and the command line both go through here, so a
 * picture made from the same parameters is the same wherever it was asked for.
 */
export function toPipelineBatch(inputs: readonly PipelineInput[], rng: RngKind): { jobs: GenerationJob[]; parameters: BatchParameters } {
  const head = inputs[0]?.job;
  if (head === undefined) throw new RangeError('toPipelineBatch needs at least one job');
  const key = batchKeyOf(head);
  for (const { job, initImage } of inputs) {
    if (batchKeyOf(job) !== key) throw new RangeError(`jobs of one batch must be compatible: ${batchKeyOf(job)} vs ${key}`);
    if ((job.kind === 'remix') !== (initImage !== undefined))
      throw new RangeError(`a ${job.kind} job with${initImage ? '' : 'out'} a picture`);
  }
  if (!isSchedulerName(head.scheduler)) throw new RangeError(`unknown scheduler ${head.scheduler}`);
  return {
    jobs: inputs.map(({ job, initImage }) => ({
      prompt: job.prompt,
      negativePrompt: job.negativePrompt,
      emphasis: job.emphasis,
      maxPromptTokens: job.maxPromptTokens,
      guidanceScale: job.guidance,
      seed: BigInt(job.seed),
      numImages: job.count,
      ...(initImage ? { initImage } : {}),
    })),
    parameters: {
      width: head.width,
      height: head.height,
      numInferenceSteps: head.steps,
      scheduler: head.scheduler,
      rng,
      ...(head.kind === 'remix' ? { strength: head.strength } : {}),
    },
  };
}
