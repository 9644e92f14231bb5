import { UserError } from '../errors.js';
import type { ModelFolder } from '../model/model-folder.js';
import { detectModelProfile, type ModelProfile } from '../model/model-profile.js';
import { createGenerator, type RngKind } from '../random/index.js';
import type { RandomSource } from '../random/random-source.js';
import { createScheduler, type SchedulerName } from '../schedulers/index.js';
import type { Scheduler } from '../schedulers/scheduler.js';
import { ClipTokenizer } from '../tokenizer/index.js';
import { JobRandomSource } from './batch-noise.js';
import type { ModelTiming } from './components/io.js';
import { TextEncoder } from './components/text-encoder.js';
import { Unet } from './components/unet.js';
import { VaeDecoder, VaeEncoder } from './components/vae.js';
import { combineGuidance, guidanceScaleEmbedding } from './guidance.js';
import type { ModelSession } from './model-session.js';
import { imageToUint8Rgb } from './postprocess.js';

/** A picture for image-to-image, already sized and scaled: `[1, 3, height, width]` values in [-1, 1]. */
export interface InitImage {
  readonly pixels: Float32Array;
  readonly width: number;
  readonly height: number;
}

/** One job's own part of a generation: what may differ between jobs that share a UNet batch. */
export interface GenerationJob {
  readonly prompt: string;
  /** Defaults to the empty string, as in diffusers. */
  readonly negativePrompt?: string;
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

/** A step that finished, for progress displays. */
export interface StepProgress {
  /** 1-based number of the finished step. */
  readonly step: number;
  readonly totalSteps: number;
  /** Milliseconds since the generation started. */
  readonly elapsedMs: number;
}

/** Observers and controls of one generation. */
export interface GenerationHooks {
  /** Called after every denoising step. */
  readonly onProgress?: (progress: StepProgress) => void;
  /** Checked between steps; a set flag stops the run with a `job.cancelled` UserError. */
  readonly signal?: { readonly aborted: boolean };
  /**
   * Awaited before every step. A host whose model calls block its event loop (onnxruntime-node's `run()`
   * does) yields here so cancellation messages can arrive.
   */
  readonly betweenSteps?: () => Promise<void>;
  /** The initial (txt2img) or noised (img2img) latents and the timesteps that will run. */
  readonly onLatentsPrepared?: (latents: Float32Array, timesteps: readonly number[]) => void;
  /**
   * diffusers' `callback_on_step_end`: the latents after each step (for tests and tools). The array is reused
   * by later steps: copy it to keep it.
   */
  readonly onStepEnd?: (index: number, timestep: number, latents: Float32Array) => void;
  /** Keep the final latents and the float decoder output in the result. */
  readonly keepIntermediates?: boolean;
}

/** How a prompt fared in the 77-token CLIP window. */
export interface PromptReport {
  readonly truncated: boolean;
  /** The part of the prompt that was cut off ('' when nothing was). */
  readonly droppedText: string;
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

/** Timings of one batch. */
export interface GenerationTimings {
  readonly totalMs: number;
  readonly encodeMs: number;
  readonly denoiseMs: number;
  readonly decodeMs: number;
  /** Denoising steps run. */
  readonly steps: number;
  /** Time inside `session.run` during the denoising loop. */
  readonly unetMs: number;
  /**
   * Median over the steps of the time a step spends outside `session.run` (scheduler, guidance, scaling,
   * progress, the yield between steps); one-time set-up before the loop is not included.
   */
  readonly stepOverheadMs: number;
  /** Time inside `session.run` over the whole generation. */
  readonly modelMs: number;
}

/** Results of one batch, in job order. */
export interface BatchResult {
  readonly jobs: JobResult[];
  readonly timings: GenerationTimings;
}

/** Loads one ONNX file into a {@link ModelSession}; implemented by the runtime module. */
export type SessionLoader = (modelPath: string) => Promise<ModelSession>;

/** What `info` reports about a loaded pipeline. */
export interface PipelineDescription {
  readonly name: string;
  readonly dir: string;
  readonly textEncoderIdsType: string;
  readonly textEncoderOutputType: string;
  readonly unetFloatType: string;
  readonly timestep: { readonly type: string; readonly shape: string };
  readonly timestepCondDim?: number;
  readonly vaeDecoderFloatType: string;
  readonly vaeEncoder: 'absent' | 'parameters' | 'sample';
  readonly vaeScalingFactor: number;
  readonly sizeMultiple: number;
  readonly nativeResolution: number;
  readonly predictionType: string;
  readonly schedulerClass: string;
  readonly timestepSpacing: string;
  readonly padToken: number;
  readonly modelMaxLength: number;
  /** Few-step model detection and the settings such a model wants. */
  readonly profile: ModelProfile;
}

/**
 * Stable Diffusion text-to-image and image-to-image, following diffusers' `StableDiffusionPipeline` and
 * `StableDiffusionImg2ImgPipeline` step by step. Several compatible jobs can run as one UNet batch; every
 * job draws from its own generator, so its images are the ones it would get alone.
 */
export class StableDiffusionPipeline {
  private constructor(
    readonly folder: ModelFolder,
    readonly tokenizer: ClipTokenizer,
    private readonly sessions: readonly ModelSession[],
    private readonly textEncoder: TextEncoder,
    private readonly unet: Unet,
    private readonly vaeDecoder: VaeDecoder,
    private readonly vaeEncoder: VaeEncoder | undefined,
  ) {}

  /** Loads every component of a model folder through `loadSession`, checking each graph's layout. */
  static async load(folder: ModelFolder, loadSession: SessionLoader): Promise<StableDiffusionPipeline> {
    const tokenizer = ClipTokenizer.fromFolder(folder.tokenizerDir);
    const sessions: ModelSession[] = [];
    const load = async (path: string): Promise<ModelSession> => {
      const session = await loadSession(path);
      sessions.push(session);
      return session;
    };
    try {
      const textEncoder = new TextEncoder(await load(folder.modelFiles.text_encoder));
      const unet = new Unet(await load(folder.modelFiles.unet));
      const vaeDecoder = new VaeDecoder(await load(folder.modelFiles.vae_decoder), folder.vaeScaleFactor);
      const encoderFile = folder.modelFiles.vae_encoder;
      const vaeEncoder = encoderFile ? new VaeEncoder(await load(encoderFile), folder.vaeScaleFactor) : undefined;
      if (folder.timeCondProjDim !== undefined && unet.timestepCondDim === undefined) {
        throw new UserError(
          'model.unexpectedLayout',
          `${folder.modelFiles.unet}: unet/config.json sets time_cond_proj_dim ${folder.timeCondProjDim} but the graph has no \`timestep_cond\` input.`,
        );
      }
      return new StableDiffusionPipeline(folder, tokenizer, sessions, textEncoder, unet, vaeDecoder, vaeEncoder);
    } catch (error) {
      await Promise.allSettled(sessions.map((session) => session.release()));
      throw error;
    }
  }

  /** Whether image-to-image is available (the folder has a VAE encoder). */
  get supportsImageToImage(): boolean {
    return this.vaeEncoder !== undefined;
  }

  /** Whether the UNet is LCM-distilled and takes the guidance scale as an embedding instead of CFG. */
  get usesGuidanceEmbedding(): boolean {
    return this.unet.timestepCondDim !== undefined;
  }

  /** What was detected in the model folder and its graphs. */
  describe(): PipelineDescription {
    const scheduler = createScheduler('euler', this.folder.schedulerConfig);
    const condDim = this.unet.timestepCondDim;
    return {
      name: this.folder.name,
      dir: this.folder.dir,
      textEncoderIdsType: this.textEncoder.inputIdsType,
      textEncoderOutputType: this.textEncoder.outputType,
      unetFloatType: this.unet.floatType,
      timestep: this.unet.timestepLayout,
      ...(condDim !== undefined ? { timestepCondDim: condDim } : {}),
      vaeDecoderFloatType: this.vaeDecoder.floatType,
      vaeEncoder: this.vaeEncoder?.outputKind ?? 'absent',
      vaeScalingFactor: this.folder.vaeScalingFactor,
      sizeMultiple: this.folder.sizeMultiple,
      nativeResolution: this.folder.nativeResolution,
      predictionType: String(scheduler.config['prediction_type'] ?? 'epsilon'),
      schedulerClass: String(this.folder.schedulerConfig['_class_name'] ?? 'unknown'),
      timestepSpacing: String(this.folder.schedulerConfig['timestep_spacing'] ?? 'leading'),
      padToken: this.tokenizer.padTokenId,
      modelMaxLength: this.tokenizer.modelMaxLength,
      profile: detectModelProfile(this.folder),
    };
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

  /** Generates several jobs that share size, steps, scheduler, generator kind and strength as one batch. */
  async generateBatch(jobs: readonly GenerationJob[], parameters: BatchParameters, hooks: GenerationHooks = {}): Promise<BatchResult> {
    const started = performance.now();
    const timing: ModelTiming = { modelMs: 0, modelCalls: 0 };

    // 1. Check inputs
    const isImageToImage = this.checkInputs(jobs, parameters);
    const latentHeight = parameters.height / this.folder.vaeScaleFactor;
    const latentWidth = parameters.width / this.folder.vaeScaleFactor;
    const rowSize = 4 * latentHeight * latentWidth;

    // 2. Define call parameters
    const rowsPerJob = jobs.map((job) => job.numImages);
    const totalRows = rowsPerJob.reduce((a, b) => a + b, 0);
    const doClassifierFreeGuidance = jobs[0]!.guidanceScale > 1 && !this.usesGuidanceEmbedding;
    const rowGuidance = new Float32Array(jobs.flatMap((job) => Array<number>(job.numImages).fill(job.guidanceScale)));

    // 3. Encode input prompt
    const { embeddings, embeddingDims, reports } = await this.encodePrompts(jobs, doClassifierFreeGuidance, timing);
    const encodeDone = performance.now();

    // 4. Prepare timesteps
    const scheduler = createScheduler(parameters.scheduler, this.folder.schedulerConfig);
    scheduler.setTimesteps(parameters.numInferenceSteps);
    const timesteps = isImageToImage ? this.imageToImageTimesteps(scheduler, parameters) : scheduler.timesteps;

    // 5. Prepare latent variables
    const generators = jobs.map((job) => createGenerator(parameters.rng, job.seed));
    const generator = new JobRandomSource(generators.map((g, j) => ({ generator: g, rows: rowsPerJob[j]! })));
    const latentDims = [totalRows, 4, latentHeight, latentWidth] as const;
    let latents = isImageToImage
      ? await this.prepareImageLatents(jobs, generators, scheduler, timesteps[0]!, latentDims, timing)
      : this.prepareLatents(generator, scheduler, latentDims);
    hooks.onLatentsPrepared?.(latents, timesteps);

    // 6. Prepare the guidance embedding of LCM-distilled UNets
    const timestepCondDim = this.unet.timestepCondDim;
    const timestepCond = timestepCondDim !== undefined ? guidanceScaleEmbedding(Array.from(rowGuidance), timestepCondDim) : undefined;

    // 7. Denoising loop
    const modelRows = doClassifierFreeGuidance ? 2 * totalRows : totalRows;
    const latentLength = totalRows * rowSize;
    // Every per-step array is allocated once here: a fresh allocation per step costs more than the
    // step's arithmetic (page faults dominate on small latents).
    const modelInput = new Float32Array(modelRows * rowSize);
    const scaledLatents = modelInput.subarray(0, latentLength);
    const guided = doClassifierFreeGuidance ? new Float32Array(latentLength) : undefined;
    const latentBuffers = [new Float32Array(latentLength), new Float32Array(latentLength)] as const;
    const unetMsBefore = timing.modelMs;
    const stepOverheads = new Float64Array(timesteps.length);
    for (let index = 0; index < timesteps.length; index++) {
      const stepStarted = performance.now();
      const modelMsBefore = timing.modelMs;
      await hooks.betweenSteps?.();
      if (hooks.signal?.aborted) throw cancelled();
      const timestep = timesteps[index]!;
      scheduler.scaleModelInput(latents, timestep, scaledLatents);
      if (doClassifierFreeGuidance) modelInput.copyWithin(latentLength, 0, latentLength);
      const prediction = await this.unet.predict(
        {
          sample: modelInput,
          sampleDims: [modelRows, 4, latentHeight, latentWidth],
          timestep,
          encoderHiddenStates: embeddings,
          encoderHiddenStatesDims: [modelRows, embeddingDims[1], embeddingDims[2]],
          ...(timestepCond ? { timestepCond } : {}),
        },
        timing,
      );
      let noisePrediction = prediction;
      if (guided) {
        combineGuidance(prediction, rowGuidance, rowSize, guided);
        noisePrediction = guided;
      }
      const prevSampleOut = latents === latentBuffers[0] ? latentBuffers[1] : latentBuffers[0];
      latents = scheduler.step(noisePrediction, timestep, latents, { shape: latentDims, generator, prevSampleOut }).prevSample;
      hooks.onStepEnd?.(index, timestep, latents);
      hooks.onProgress?.({ step: index + 1, totalSteps: timesteps.length, elapsedMs: performance.now() - started });
      stepOverheads[index] = performance.now() - stepStarted - (timing.modelMs - modelMsBefore);
    }
    const unetMs = timing.modelMs - unetMsBefore;
    const denoiseDone = performance.now();

    // 8. Decode latents into images
    await hooks.betweenSteps?.();
    if (hooks.signal?.aborted) throw cancelled();
    const decoded = await this.decodeLatents(latents, latentDims, timing);
    const finished = performance.now();

    let row = 0;
    const results = jobs.map((job, j): JobResult => {
      const first = row;
      row += job.numImages;
      const images = decoded.slice(first, row).map((pixels) => ({
        width: parameters.width,
        height: parameters.height,
        rgb: imageToUint8Rgb(pixels, [1, 3, parameters.height, parameters.width]),
      }));
      return {
        images,
        prompt: reports[j]!.prompt,
        negativePrompt: reports[j]!.negativePrompt,
        ...(hooks.keepIntermediates
          ? { finalLatents: latents.slice(first * rowSize, row * rowSize), decodedImages: decoded.slice(first, row) }
          : {}),
      };
    });
    return {
      jobs: results,
      timings: {
        totalMs: finished - started,
        encodeMs: encodeDone - started,
        denoiseMs: denoiseDone - encodeDone,
        decodeMs: finished - denoiseDone,
        steps: timesteps.length,
        unetMs,
        stepOverheadMs: median(stepOverheads),
        modelMs: timing.modelMs,
      },
    };
  }

  /** Frees every native session. */
  async release(): Promise<void> {
    await Promise.allSettled(this.sessions.map((session) => session.release()));
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

  /**
   * Tokenizes and encodes each distinct prompt once (batch 1, as diffusers calls the text encoder) and lays
   * the embeddings out as diffusers does: `[negative rows..., prompt rows...]` with CFG, `[prompt rows...]`
   * without, each row repeated `numImages` times.
   */
  private async encodePrompts(jobs: readonly GenerationJob[], doClassifierFreeGuidance: boolean, timing: ModelTiming) {
    type EncodedPrompt = { data: Float32Array; dims: [number, number, number]; report: PromptReport };
    const cache = new Map<string, EncodedPrompt>();
    const encode = async (text: string): Promise<EncodedPrompt> => {
      let entry = cache.get(text);
      if (!entry) {
        const tokens = this.tokenizer.encode(text);
        const encoded = await this.textEncoder.encode(tokens.inputIds, timing);
        entry = { ...encoded, report: { truncated: tokens.truncated, droppedText: tokens.droppedText } };
        cache.set(text, entry);
      }
      return entry;
    };
    const positive: EncodedPrompt[] = [];
    const negative: (EncodedPrompt | undefined)[] = [];
    for (const job of jobs) {
      positive.push(await encode(job.prompt));
      // Without guidance diffusers never encodes the negative prompt; we still tokenize it for the report.
      negative.push(doClassifierFreeGuidance ? await encode(job.negativePrompt ?? '') : undefined);
    }
    const dims = positive[0]!.dims;
    const rowSize = dims[1] * dims[2];
    const totalRows = jobs.reduce((sum, job) => sum + job.numImages, 0);
    const embeddings = new Float32Array((doClassifierFreeGuidance ? 2 : 1) * totalRows * rowSize);
    let row = 0;
    const place = (list: readonly (EncodedPrompt | undefined)[]) => {
      jobs.forEach((job, j) => {
        for (let k = 0; k < job.numImages; k++) embeddings.set(list[j]!.data, row++ * rowSize);
      });
    };
    if (doClassifierFreeGuidance) place(negative);
    place(positive);
    const reports = jobs.map((job, j) => {
      const negativeReport = negative[j]?.report ?? reportFor(this.tokenizer, job.negativePrompt ?? '');
      return { prompt: positive[j]!.report, negativePrompt: negativeReport };
    });
    return { embeddings, embeddingDims: dims, reports };
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

  /** Decodes one image at a time, as diffusers' ONNX pipeline does, to bound memory. */
  private async decodeLatents(
    latents: Float32Array,
    dims: readonly [number, number, number, number],
    timing: ModelTiming,
  ): Promise<Float32Array[]> {
    const [rows, channels, height, width] = dims;
    const rowSize = channels * height * width;
    const scaling = Math.fround(this.folder.vaeScalingFactor);
    const images: Float32Array[] = [];
    const scaled = new Float32Array(rowSize);
    for (let row = 0; row < rows; row++) {
      for (let i = 0; i < rowSize; i++) scaled[i] = Math.fround(latents[row * rowSize + i]! / scaling);
      images.push(await this.vaeDecoder.decode(scaled, height, width, timing));
    }
    return images;
  }
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

function median(values: Float64Array): number {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function reportFor(tokenizer: ClipTokenizer, text: string): PromptReport {
  const tokens = tokenizer.encode(text);
  return { truncated: tokens.truncated, droppedText: tokens.droppedText };
}

function cancelled(): UserError {
  return new UserError('job.cancelled', 'The generation was cancelled.');
}
