import { UserError } from '../errors.js';
import type { ModelFolder } from '../model/model-folder.js';
import { detectModelProfile, type ModelProfile } from '../model/model-profile.js';
import { createGenerator, type RngKind } from '../random/index.js';
import type { RandomSource } from '../random/random-source.js';
import { createScheduler, type SchedulerName } from '../schedulers/index.js';
import type { Scheduler, SchedulerStepOutput } from '../schedulers/scheduler.js';
import { ClipTokenizer } from '../tokenizer/index.js';
import { JobRandomSource } from './batch-noise.js';
import type { ModelTiming } from './components/io.js';
import { PictureDecoder, type FinalDecoder } from './components/picture-decoder.js';
import type { TinyVaeDecoder } from './components/tiny-vae-decoder.js';
import { Unet } from './components/unet.js';
import { VaeDecoder, VaeEncoder, type VaeTilingMode } from './components/vae.js';
import { GenerationRun, type GenerationHooks, type GenerationTimings } from './generation-run.js';
import { combineGuidance, guidanceScaleEmbedding } from './guidance.js';
import type { ModelSession, SessionUsage } from './model-session.js';
import {
  familyStrategy,
  loadTextEncoders,
  type FamilyConditioning,
  type FamilyStrategy,
  type TextEncoderDescription,
} from './model-family.js';
import { imageToUint8Rgb } from './postprocess.js';
import type { JobPromptReports } from './prompt-conditioning.js';
import type { EmphasisMode, PromptReport } from './prompt/tokenize-prompt.js';
import type { ModelFamily } from '../model/model-folder.js';

export type { AddedConditionsView, GenerationHooks, GenerationTimings, StepProgress } from './generation-run.js';
export type { EmphasisMode, PromptReport } from './prompt/tokenize-prompt.js';

/** A picture for image-to-image, already sized and scaled: `[1, 3, height, width]` values in [-1, 1]. */
export interface InitImage {
  readonly pixels: Float32Array;
  readonly width: number;
  readonly height: number;
}

/** One job's own part of a generation: what may differ between jobs that share a UNet batch. */
export interface GenerationJob {
  /** Read the AUTOMATIC1111 way: `(word:1.3)`, `[word]`, `BREAK`, any length up to {@link maxPromptTokens}. */
  readonly prompt: string;
  /** Defaults to the empty string, as in diffusers. */
  readonly negativePrompt?: string;
  /** How brackets are read in both prompts; defaults to `original` (A1111's default). */
  readonly emphasis?: EmphasisMode;
  /** Most A1111 tokens read per prompt (default 225, three chunks); the rest is cut and reported. */
  readonly maxPromptTokens?: number;
  /** Classifier-free guidance scale; `<= 1` turns guidance off (one UNet pass per step). */
  readonly guidanceScale: number;
  /** `torch.Generator(...).manual_seed(seed)`; 0 to 2^64 - 1. */
  readonly seed: bigint | number;
  /** `num_images_per_prompt`. */
  readonly numImages: number;
  /** The source picture for image-to-image; every job of a batch has one or none does. */
  readonly initImage?: InitImage;
}

/** What every job of one batch shares: they decide the shape of the computation. */
export interface BatchParameters {
  readonly width: number;
  readonly height: number;
  readonly numInferenceSteps: number;
  readonly scheduler: SchedulerName;
  /** `cpu` reproduces `torch.Generator("cpu")`, `philox` an NVIDIA GPU generator. */
  readonly rng: RngKind;
  /** Image-to-image strength (0–1); only with init images. */
  readonly strength?: number;
}

/** One generated picture: 8-bit RGB, row-major, 3 bytes per pixel. */
export interface GeneratedImage {
  readonly width: number;
  readonly height: number;
  readonly rgb: Uint8Array;
}

/** One job's results. */
export interface JobResult {
  readonly images: GeneratedImage[];
  readonly prompt: PromptReport;
  readonly negativePrompt: PromptReport;
  /** `final_latents` of this job's images (before dividing by the scaling factor), if asked for. */
  readonly finalLatents?: Float32Array;
  /** Float VAE output per image, `[1, 3, H, W]`, if asked for. */
  readonly decodedImages?: Float32Array[];
}

/** Results of one batch, in job order. */
export interface BatchResult {
  readonly jobs: JobResult[];
  readonly timings: GenerationTimings;
}

/** Loads one ONNX file into a {@link ModelSession}; implemented by the runtime module. */
export type SessionLoader = (modelPath: string, usage?: SessionUsage) => Promise<ModelSession>;

/** How a pipeline decodes and batches; the defaults follow diffusers exactly. */
export interface PipelineOptions {
  /** A TAESD-class decoder (previews, and the final pictures with `finalDecoder: 'tiny'`); released with the pipeline. */
  readonly tinyDecoder?: TinyVaeDecoder;
  /** Which decoder draws the final pictures (default `vae`). */
  readonly finalDecoder?: FinalDecoder;
  /** When the full VAE decoder works tile by tile (default `never`). */
  readonly vaeTiling?: VaeTilingMode;
  /** Most latent rows per UNet run, larger batches run in slices with identical results (default 0: all). */
  readonly maxUnetBatch?: number;
}

/** What `info` reports about a loaded pipeline. */
export interface PipelineDescription {
  readonly name: string;
  readonly dir: string;
  /** SD 1.x/2.x or SDXL, and what in the folder said so. */
  readonly family: ModelFamily;
  readonly familyReason: string;
  /** Every text encoder: which output conditions the UNet, its types and padding. */
  readonly textEncoders: readonly TextEncoderDescription[];
  /** SDXL: a missing negative prompt is zeros, not the encoded empty prompt. */
  readonly forceZerosForEmptyPrompt: boolean;
  /** The VAE config asks for float32 decoding (`force_upcast`); a risk only when the VAE graph is fp16. */
  readonly vaeForceUpcast: boolean;
  /** Bytes of the graphs and weights the pipeline loaded. */
  readonly weightBytes: number;
  readonly textEncoderIdsType: string;
  readonly textEncoderOutputType: string;
  readonly unetFloatType: string;
  readonly timestep: { readonly type: string; readonly shape: string };
  readonly timestepCondDim?: number;
  readonly vaeDecoderFloatType: string;
  /** What draws the final pictures, and the tiny decoder's file when there is one. */
  readonly finalDecoder: FinalDecoder;
  readonly tinyDecoder: string | null;
  /** When the full VAE decoder tiles, and its tiles' latent side. */
  readonly vaeTiling: { readonly mode: VaeTilingMode; readonly tileLatentSize: number };
  /** Most latent rows per UNet run (0: all). */
  readonly maxUnetBatch: number;
  readonly vaeEncoder: 'absent' | 'parameters' | 'sample';
  readonly vaeScalingFactor: number;
  readonly sizeMultiple: number;
  readonly nativeResolution: number;
  readonly predictionType: string;
  readonly schedulerClass: string;
  readonly timestepSpacing: string;
  readonly padToken: number;
  readonly modelMaxLength: number;
  /**
   * Most 77-token prompt chunks the UNet accepts: `null` when its text sequence axis is dynamic (any number),
   * 1 for a graph that fixes `encoder_hidden_states` at 77 tokens.
   */
  readonly maxPromptChunks: number | null;
  /** Few-step model detection and the settings such a model wants. */
  readonly profile: ModelProfile;
}

/** Where every row of a batch lives: which job it belongs to and the latents' shape. */
interface BatchLayout {
  /** Images (rows) of each job, in job order. */
  readonly rowsPerJob: readonly number[];
  readonly totalRows: number;
  readonly latentDims: readonly [number, number, number, number];
  /** Values in one row of latents. */
  readonly rowSize: number;
}

/** What every denoising step of a batch uses; built once before the loop. */
interface DenoisingLoop {
  readonly scheduler: Scheduler;
  readonly generator: RandomSource;
  readonly layout: BatchLayout;
  readonly conditioning: FamilyConditioning;
  readonly doClassifierFreeGuidance: boolean;
  /** Guidance scale of each latent row. */
  readonly rowGuidance: Float32Array;
  /** The guidance embedding of LCM-distilled UNets, one row per image. */
  readonly timestepCond: Float32Array | undefined;
  /**
   * The UNet input, allocated once: a fresh allocation per step costs more than the step's arithmetic (page
   * faults dominate on small latents). With guidance it holds the scaled latents twice.
   */
  readonly modelInput: Float32Array;
  /** The first rows of `modelInput`, where the scaled latents go. */
  readonly scaledLatents: Float32Array;
  /** The guided noise prediction, with guidance. */
  readonly guided: Float32Array | undefined;
  /** The scheduler writes each step's latents into the one of these the previous step did not use. */
  readonly latentBuffers: readonly [Float32Array, Float32Array];
}

/**
 * Stable Diffusion text-to-image and image-to-image, following diffusers' `StableDiffusionPipeline` and
 * `StableDiffusionImg2ImgPipeline` step by step — and their SDXL counterparts, which differ only in step 3 (two text
 * encoders, a pooled embedding, the size micro-conditioning; see {@link FamilyStrategy}) — with prompts read the
 * AUTOMATIC1111 way (emphasis, `BREAK`, any length). Several compatible jobs can run as one UNet batch; every job
 * draws from its own generator, so its images are the ones it would get alone.
 */
export class StableDiffusionPipeline {
  private constructor(
    readonly folder: ModelFolder,
    readonly tokenizer: ClipTokenizer,
    private readonly sessions: readonly ModelSession[],
    private readonly family: FamilyStrategy,
    private readonly unet: Unet,
    private readonly vaeDecoder: VaeDecoder,
    private readonly vaeEncoder: VaeEncoder | undefined,
    private readonly pictureDecoder: PictureDecoder,
    private readonly options: PipelineOptions,
  ) {}

  /** Loads every component of a model folder through `loadSession`, checking each graph's layout. */
  static async load(folder: ModelFolder, loadSession: SessionLoader, options: PipelineOptions = {}): Promise<StableDiffusionPipeline> {
    const tokenizer = ClipTokenizer.fromFolder(folder.tokenizerDir);
    const sessions: ModelSession[] = [];
    const load = async (path: string, usage: SessionUsage = 'repeated'): Promise<ModelSession> => {
      const session = await loadSession(path, usage);
      sessions.push(session);
      return session;
    };
    try {
      const textEncoders = await loadTextEncoders(folder, load);
      const unet = new Unet(await load(folder.modelFiles.unet));
      const family = familyStrategy(folder, tokenizer, textEncoders, unet);
      unet.maxBatch = options.maxUnetBatch ?? 0;
      const vaeDecoder = new VaeDecoder(await load(folder.modelFiles.vae_decoder), folder.vaeScaleFactor, {
        mode: options.vaeTiling ?? 'never',
        tileLatentSize: folder.vaeTileLatentSize,
      });
      const encoderFile = folder.modelFiles.vae_encoder;
      const vaeEncoder = encoderFile ? new VaeEncoder(await load(encoderFile, 'occasional'), folder.vaeScaleFactor) : undefined;
      if (folder.timeCondProjDim !== undefined && unet.timestepCondDim === undefined) {
        throw new UserError(
          'model.unexpectedLayout',
          `${folder.modelFiles.unet}: unet/config.json sets time_cond_proj_dim ${folder.timeCondProjDim} but the graph has no \`timestep_cond\` input.`,
        );
      }
      const pictureDecoder = new PictureDecoder(vaeDecoder, folder.vaeScalingFactor, options.tinyDecoder, options.finalDecoder ?? 'vae');
      return new StableDiffusionPipeline(folder, tokenizer, sessions, family, unet, vaeDecoder, vaeEncoder, pictureDecoder, options);
    } catch (error) {
      await Promise.allSettled(sessions.map((session) => session.release()));
      throw error;
    }
  }

  /** Whether image-to-image is available (the folder has a VAE encoder). */
  get supportsImageToImage(): boolean {
    return this.vaeEncoder !== undefined;
  }

  /** Most latent rows per UNet run (0: all); see {@link PipelineOptions.maxUnetBatch}. */
  get maxUnetBatch(): number {
    return this.unet.maxBatch;
  }

  set maxUnetBatch(rows: number) {
    if (!Number.isInteger(rows) || rows < 0)
      throw new RangeError(`Expected \`maxUnetBatch\` to be an integer of at least 0, got \`${rows}\``);
    this.unet.maxBatch = rows;
  }

  /** Whether the UNet is LCM-distilled and takes the guidance scale as an embedding instead of CFG. */
  get usesGuidanceEmbedding(): boolean {
    return this.unet.timestepCondDim !== undefined;
  }

  /** What was detected in the model folder and its graphs. */
  describe(): PipelineDescription {
    const scheduler = createScheduler('euler', this.folder.schedulerConfig);
    const condDim = this.unet.timestepCondDim;
    const fixedLength = this.unet.sequenceLength;
    const [firstEncoder] = this.family.textEncoders;
    return {
      name: this.folder.name,
      dir: this.folder.dir,
      family: this.family.family,
      familyReason: this.folder.familyReason,
      textEncoders: this.family.textEncoders,
      forceZerosForEmptyPrompt: this.family.zeroEmptyNegativePrompt,
      vaeForceUpcast: this.folder.vaeForceUpcast,
      weightBytes: this.folder.weightBytes,
      textEncoderIdsType: firstEncoder!.idsType,
      textEncoderOutputType: firstEncoder!.outputType,
      unetFloatType: this.unet.floatType,
      timestep: this.unet.timestepLayout,
      ...(condDim !== undefined ? { timestepCondDim: condDim } : {}),
      vaeDecoderFloatType: this.vaeDecoder.floatType,
      finalDecoder: this.pictureDecoder.choice,
      tinyDecoder: this.options.tinyDecoder?.path ?? null,
      vaeTiling: { mode: this.options.vaeTiling ?? 'never', tileLatentSize: this.folder.vaeTileLatentSize },
      maxUnetBatch: this.unet.maxBatch,
      vaeEncoder: this.vaeEncoder?.outputKind ?? 'absent',
      vaeScalingFactor: this.folder.vaeScalingFactor,
      sizeMultiple: this.folder.sizeMultiple,
      nativeResolution: this.folder.nativeResolution,
      predictionType: String(scheduler.config['prediction_type'] ?? 'epsilon'),
      schedulerClass: String(this.folder.schedulerConfig['_class_name'] ?? 'unknown'),
      timestepSpacing: String(this.folder.schedulerConfig['timestep_spacing'] ?? 'leading'),
      padToken: this.tokenizer.padTokenId,
      modelMaxLength: this.tokenizer.modelMaxLength,
      maxPromptChunks: fixedLength === undefined ? null : Math.floor(fixedLength / this.tokenizer.modelMaxLength),
      profile: detectModelProfile(this.folder),
    };
  }

  /**
   * How many 77-token chunks a job's UNet rows have (the longer of prompt and negative prompt with classifier-free
   * guidance). Only jobs with equal counts can share a batch: padding a job's conditioning to another's length
   * would change its pictures.
   */
  conditioningChunks(job: GenerationJob): number {
    return this.family.chunkCount(job, this.doesClassifierFreeGuidance(job));
  }

  /** Generates the images of one job. */
  async generate(
    job: GenerationJob,
    parameters: BatchParameters,
    hooks: GenerationHooks = {},
  ): Promise<JobResult & { timings: GenerationTimings }> {
    const result = await this.generateBatch([job], parameters, hooks);
    return { ...result.jobs[0]!, timings: result.timings };
  }

  /**
   * Generates several jobs as one batch. They must share size, steps, scheduler, generator kind and strength,
   * all use guidance or none, and have conditionings of equal length ({@link conditioningChunks}).
   */
  async generateBatch(jobs: readonly GenerationJob[], parameters: BatchParameters, hooks: GenerationHooks = {}): Promise<BatchResult> {
    const run = new GenerationRun(hooks);

    // 1. Check inputs
    const isImageToImage = this.checkInputs(jobs, parameters);

    // 2. Define call parameters
    const layout = this.batchLayout(jobs, parameters);
    const doClassifierFreeGuidance = this.doesClassifierFreeGuidance(jobs[0]!);

    // 3. Encode input prompt
    const conditioning = await this.family.encode(jobs, doClassifierFreeGuidance, parameters, run.models);
    run.promptEncoded(conditioning);

    // 4. Prepare timesteps
    const scheduler = createScheduler(parameters.scheduler, this.folder.schedulerConfig);
    scheduler.setTimesteps(parameters.numInferenceSteps);
    const timesteps = isImageToImage ? this.imageToImageTimesteps(scheduler, parameters) : scheduler.timesteps;

    // 5. Prepare latent variables
    const generators = jobs.map((job) => createGenerator(parameters.rng, job.seed));
    const generator = new JobRandomSource(generators.map((g, j) => ({ generator: g, rows: layout.rowsPerJob[j]! })));
    let latents = isImageToImage
      ? await this.prepareImageLatents(jobs, generators, scheduler, timesteps[0]!, layout.latentDims, run.models)
      : this.prepareLatents(generator, scheduler, layout.latentDims);
    run.latentsPrepared(latents, timesteps);

    // 6. Prepare each row's guidance scale (and its embedding for LCM-distilled UNets)
    const rowGuidance = new Float32Array(jobs.flatMap((job) => Array<number>(job.numImages).fill(job.guidanceScale)));
    const condDim = this.unet.timestepCondDim;
    const timestepCond = condDim !== undefined ? guidanceScaleEmbedding(Array.from(rowGuidance), condDim) : undefined;

    // 7. Denoising loop
    const loop = prepareDenoisingLoop({ scheduler, generator, layout, conditioning, doClassifierFreeGuidance, rowGuidance, timestepCond });
    for (const [index, timestep] of timesteps.entries()) {
      await run.stepStarting();
      const step = await this.denoise(loop, latents, timestep, run.models);
      latents = step.prevSample;
      run.stepDone(index, timestep, latents, step.predOriginalSample);
    }
    run.stageDone('denoise');

    // 8. Decode latents into images
    await run.checkpoint();
    const decoded = await this.pictureDecoder.decode(latents, layout.latentDims, run.models);
    run.stageDone('decode');

    // 9. Split the batch into the jobs' results
    return { jobs: splitByJob(layout, parameters, latents, decoded, conditioning.reports, run.keepIntermediates), timings: run.timings() };
  }

  /** Frees every native session. */
  async release(): Promise<void> {
    await Promise.allSettled([...this.sessions.map((session) => session.release()), this.options.tinyDecoder?.release()]);
  }

  /**
   * One step of the denoising loop: scale the latents for the model (twice with guidance), predict the noise,
   * combine the guidance, and let the scheduler compute the previous sample.
   */
  private async denoise(loop: DenoisingLoop, latents: Float32Array, timestep: number, timing: ModelTiming): Promise<SchedulerStepOutput> {
    const { layout, conditioning, modelInput, scaledLatents, guided } = loop;
    const modelRows = modelInput.length / layout.rowSize;
    loop.scheduler.scaleModelInput(latents, timestep, scaledLatents);
    if (loop.doClassifierFreeGuidance) modelInput.copyWithin(scaledLatents.length, 0, scaledLatents.length);
    const [, channels, height, width] = layout.latentDims;
    const prediction = await this.unet.predict(
      {
        sample: modelInput,
        sampleDims: [modelRows, channels, height, width],
        timestep,
        encoderHiddenStates: conditioning.embeddings,
        encoderHiddenStatesDims: [modelRows, conditioning.sequenceLength, conditioning.hiddenSize],
        ...(loop.timestepCond ? { timestepCond: loop.timestepCond } : {}),
        ...(conditioning.added ? { addedConditions: conditioning.added } : {}),
      },
      timing,
    );
    if (guided) combineGuidance(prediction, loop.rowGuidance, layout.rowSize, guided);
    const [first, second] = loop.latentBuffers;
    const prevSampleOut = latents === first ? second : first;
    return loop.scheduler.step(guided ?? prediction, timestep, latents, {
      shape: layout.latentDims,
      generator: loop.generator,
      prevSampleOut,
    });
  }

  private doesClassifierFreeGuidance(job: GenerationJob): boolean {
    return job.guidanceScale > 1 && !this.usesGuidanceEmbedding;
  }

  private batchLayout(jobs: readonly GenerationJob[], parameters: BatchParameters): BatchLayout {
    const rowsPerJob = jobs.map((job) => job.numImages);
    const totalRows = rowsPerJob.reduce((a, b) => a + b, 0);
    const latentHeight = parameters.height / this.folder.vaeScaleFactor;
    const latentWidth = parameters.width / this.folder.vaeScaleFactor;
    return { rowsPerJob, totalRows, latentDims: [totalRows, 4, latentHeight, latentWidth], rowSize: 4 * latentHeight * latentWidth };
  }

  private checkInputs(jobs: readonly GenerationJob[], parameters: BatchParameters): boolean {
    if (jobs.length === 0) throw new Error('generateBatch needs at least one job');
    const multiple = this.folder.sizeMultiple;
    for (const [key, value] of [
      ['width', parameters.width],
      ['height', parameters.height],
    ] as const) {
      if (!Number.isInteger(value) || value < multiple || value % multiple !== 0) {
        throw new UserError(
          `options.${key}`,
          `Expected \`${key}\` to be a positive multiple of ${multiple} for this model, got \`${value}\`.`,
        );
      }
    }
    if (!Number.isInteger(parameters.numInferenceSteps) || parameters.numInferenceSteps < 1) {
      throw new UserError('options.steps', `Expected \`steps\` to be a positive integer, got \`${parameters.numInferenceSteps}\`.`);
    }
    const guidanceOn = (job: GenerationJob) => job.guidanceScale > 1;
    for (const job of jobs) {
      if (!Number.isFinite(job.guidanceScale) || job.guidanceScale < 0) {
        throw new UserError('options.guidance', `Expected \`guidance\` to be a number of at least 0, got \`${job.guidanceScale}\`.`);
      }
      if (!Number.isInteger(job.numImages) || job.numImages < 1) {
        throw new UserError('options.numImages', `Expected \`numImages\` to be a positive integer, got \`${job.numImages}\`.`);
      }
      if (guidanceOn(job) !== guidanceOn(jobs[0]!))
        throw new Error('jobs of one batch must all use classifier-free guidance or all skip it');
      if ((job.initImage === undefined) !== (jobs[0]!.initImage === undefined))
        throw new Error('jobs of one batch must all be text-to-image or all image-to-image');
    }
    const isImageToImage = jobs[0]!.initImage !== undefined;
    if (!isImageToImage) return false;

    if (!this.vaeEncoder) {
      throw new UserError(
        'model.noVaeEncoder',
        `This model folder (${this.folder.dir}) has no vae_encoder/model.onnx, so image-to-image is not available with it.`,
      );
    }
    const strength = parameters.strength;
    if (strength === undefined || !(strength >= 0 && strength <= 1)) {
      throw new UserError('options.strength', `Expected \`strength\` to be a number from 0 to 1, got \`${strength}\`.`);
    }
    if (Math.min(Math.trunc(parameters.numInferenceSteps * strength), parameters.numInferenceSteps) < 1) {
      throw new UserError(
        'options.strength',
        `With strength ${strength} and ${parameters.numInferenceSteps} steps no denoising step would run (diffusers runs int(steps × strength) steps): raise the strength or the steps.`,
      );
    }
    for (const job of jobs) {
      const image = job.initImage!;
      if (
        image.width !== parameters.width ||
        image.height !== parameters.height ||
        image.pixels.length !== 3 * image.width * image.height
      ) {
        throw new Error(
          `init image is ${image.width}x${image.height} (${image.pixels.length} values), expected ${parameters.width}x${parameters.height}`,
        );
      }
    }
    return true;
  }

  /** `StableDiffusionImg2ImgPipeline.get_timesteps` plus `set_begin_index` when the scheduler has it. */
  private imageToImageTimesteps(scheduler: Scheduler, parameters: BatchParameters): readonly number[] {
    const n = parameters.numInferenceSteps;
    const initTimestep = Math.min(Math.trunc(n * parameters.strength!), n);
    const tStart = Math.max(n - initTimestep, 0);
    const timesteps = scheduler.timesteps.slice(tStart * scheduler.order);
    if (scheduler.supportsBeginIndex) scheduler.setBeginIndex(tStart * scheduler.order);
    return timesteps;
  }

  /** txt2img: `randn([rows, 4, h, w]) * init_noise_sigma`. */
  private prepareLatents(generator: RandomSource, scheduler: Scheduler, dims: readonly number[]): Float32Array {
    const latents = generator.randn(dims);
    const sigma = Math.fround(scheduler.initNoiseSigma);
    if (sigma !== 1) for (let i = 0; i < latents.length; i++) latents[i] = Math.fround(latents[i]! * sigma);
    return latents;
  }

  /**
   * img2img: per job, encode the picture, sample the latent distribution with the job's generator (first
   * draw), scale, repeat for each image, draw the noise (second draw) and noise to the first kept timestep.
   */
  private async prepareImageLatents(
    jobs: readonly GenerationJob[],
    generators: readonly RandomSource[],
    scheduler: Scheduler,
    latentTimestep: number,
    dims: readonly [number, number, number, number],
    timing: ModelTiming,
  ): Promise<Float32Array> {
    const rowSize = dims[1] * dims[2] * dims[3];
    const initLatents = new Float32Array(dims[0] * rowSize);
    const noise = new Float32Array(dims[0] * rowSize);
    const scaling = Math.fround(this.folder.vaeScalingFactor);
    let row = 0;
    for (const [j, job] of jobs.entries()) {
      const image = job.initImage!;
      const encoded = await this.vaeEncoder!.encode(image.pixels, image.height, image.width, timing);
      const sample =
        encoded.kind === 'sample'
          ? encoded.data
          : sampleLatentDistribution(encoded.data, rowSize, generators[j]!, [1, dims[1], dims[2], dims[3]]);
      for (let i = 0; i < rowSize; i++) sample[i] = Math.fround(scaling * sample[i]!);
      const jobNoise = generators[j]!.randn([job.numImages, dims[1], dims[2], dims[3]]);
      for (let k = 0; k < job.numImages; k++) initLatents.set(sample.subarray(0, rowSize), (row + k) * rowSize);
      noise.set(jobNoise, row * rowSize);
      row += job.numImages;
    }
    return scheduler.addNoise(initLatents, noise, latentTimestep);
  }
}

/** Allocates the loop's buffers once; see {@link DenoisingLoop}. */
function prepareDenoisingLoop(parts: Omit<DenoisingLoop, 'modelInput' | 'scaledLatents' | 'guided' | 'latentBuffers'>): DenoisingLoop {
  const latentLength = parts.layout.totalRows * parts.layout.rowSize;
  const modelInput = new Float32Array((parts.doClassifierFreeGuidance ? 2 : 1) * latentLength);
  return {
    ...parts,
    modelInput,
    scaledLatents: modelInput.subarray(0, latentLength),
    guided: parts.doClassifierFreeGuidance ? new Float32Array(latentLength) : undefined,
    latentBuffers: [new Float32Array(latentLength), new Float32Array(latentLength)],
  };
}

/** Hands each job its rows: its pictures as 8-bit RGB, its prompt reports and, if asked for, its intermediates. */
function splitByJob(
  layout: BatchLayout,
  parameters: BatchParameters,
  latents: Float32Array,
  decoded: readonly Float32Array[],
  reports: readonly JobPromptReports[],
  keepIntermediates: boolean,
): JobResult[] {
  let row = 0;
  return layout.rowsPerJob.map((rows, j): JobResult => {
    const first = row;
    row += rows;
    const images = decoded.slice(first, row).map((pixels) => ({
      width: parameters.width,
      height: parameters.height,
      rgb: imageToUint8Rgb(pixels, [1, 3, parameters.height, parameters.width]),
    }));
    return {
      images,
      prompt: reports[j]!.prompt,
      negativePrompt: reports[j]!.negativePrompt,
      ...(keepIntermediates
        ? { finalLatents: latents.slice(first * layout.rowSize, row * layout.rowSize), decodedImages: decoded.slice(first, row) }
        : {}),
    };
  });
}

/** `DiagonalGaussianDistribution.sample`: `mean + exp(0.5 * clamp(logvar, -30, 20)) * randn`, in float32. */
function sampleLatentDistribution(parameters: Float32Array, size: number, generator: RandomSource, shape: readonly number[]): Float32Array {
  const noise = generator.randn(shape);
  const sample = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const logvar = Math.min(Math.max(parameters[size + i]!, -30), 20);
    const std = Math.fround(Math.exp(Math.fround(0.5 * logvar)));
    sample[i] = Math.fround(parameters[i]! + Math.fround(std * noise[i]!));
  }
  return sample;
}
