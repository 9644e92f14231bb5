import { extname, resolve } from 'node:path';
import type { Config } from '../config/index.js';
import { UserError } from '../errors.js';
import { prepareInitImage, type InitImage } from '../image/index.js';
import { toPipelineBatch } from '../jobs/pipeline-batch.js';
import { renderPngs } from '../jobs/png-output.js';
import { readModelFolder } from '../model/model-folder.js';
import { detectModelProfile, withModelDefaults } from '../model/model-profile.js';
import type { RngKind } from '../random/index.js';
import { imageSide, resolveGenerationOptions, type EffectiveSettings } from '../settings/index.js';
import type { JobSpec } from '../store/index.js';
import { PipelineWorker } from '../worker/pipeline-worker.js';
import { emphasisOption, numberOption, parseCommandArgs, stringOption } from './args.js';
import { StepProgressBar, type ProgressStream } from './progress-bar.js';
import { ensureModelDir } from './model-location.js';
import { OutputFiles } from './output-files.js';
import { readSourceImage } from './source-image.js';
import { engineOptionsFrom, runtimeOptionsFrom } from '../worker/runtime-options.js';

const generationOptions = {
  model: { type: 'string' },
  negative: { type: 'string' },
  seed: { type: 'string' },
  steps: { type: 'string' },
  guidance: { type: 'string' },
  width: { type: 'string' },
  height: { type: 'string' },
  scheduler: { type: 'string' },
  rng: { type: 'string' },
  count: { type: 'string' },
  out: { type: 'string' },
  device: { type: 'string' },
  emphasis: { type: 'string' },
  decoder: { type: 'string' },
} as const;

/** Usage lines of the generation commands. */
export const imagineUsage =
  'latentcord imagine "<prompt>" [--model DIR] [--negative TEXT] [--seed N] [--steps N] [--guidance F] [--width N] [--height N] [--scheduler NAME] [--rng cpu|philox] [--count N] [--emphasis original|no-norm|off] [--decoder vae|tiny] [--out FILE.png]';
export const remixUsage = 'latentcord remix "<prompt>" --image FILE [--strength 0.7] [same options as imagine]';

/** Where the CLI writes and how it talks to the user. */
export interface CliIo {
  readonly stdout: ProgressStream;
  readonly stderr: ProgressStream;
  readonly cwd: string;
}

/** `imagine` and `remix`: generate images in the pipeline process and write PNGs with their parameters. */
export async function runGenerateCommand(kind: 'imagine' | 'remix', argv: readonly string[], config: Config, io: CliIo): Promise<void> {
  const usage = kind === 'imagine' ? imagineUsage : remixUsage;
  const remixOptions = { image: { type: 'string' }, strength: { type: 'string' } } as const;
  const { positionals, values } = parseCommandArgs(
    argv,
    kind === 'remix' ? { ...generationOptions, ...remixOptions } : generationOptions,
    usage,
  );
  if (positionals.length !== 1) throw new UserError('cli.usage', `Expected one prompt in quotes.\n\nUsage: ${usage}`);
  const rng = (stringOption(values, 'rng') ?? 'cpu') as RngKind;
  const emphasis = emphasisOption(values);
  if (rng !== 'cpu' && rng !== 'philox') throw new UserError('options.rng', `Expected \`--rng\` to be cpu or philox, got \`${rng}\`.`);

  const imagePath = stringOption(values, 'image');
  if (kind === 'remix' && !imagePath) throw new UserError('cli.usage', `remix needs --image FILE.\n\nUsage: ${usage}`);
  const sourceBytes = imagePath ? await readSourceImage(resolve(io.cwd, imagePath), config.limits.maxAttachmentBytes) : undefined;

  const modelDir = await ensureModelDir(config, stringOption(values, 'model'), io.cwd, io.stderr);
  const profile = detectModelProfile(readModelFolder(modelDir));
  const modelSettings: EffectiveSettings = withModelDefaults(config.guildDefaults, profile, config.modelDefaults);
  const settings: EffectiveSettings = emphasis !== undefined ? { ...modelSettings, emphasis } : modelSettings;
  const width = numberOption(values, 'width', 'integer');
  const height = numberOption(values, 'height', 'integer');
  const options = resolveGenerationOptions(
    {
      kind,
      prompt: positionals[0]!,
      negativePrompt: stringOption(values, 'negative') ?? null,
      steps: numberOption(values, 'steps', 'integer') ?? null,
      guidance: numberOption(values, 'guidance', 'number') ?? null,
      width: width ?? null,
      height: height ?? null,
      scheduler: stringOption(values, 'scheduler') ?? null,
      count: numberOption(values, 'count', 'integer') ?? null,
      seed: stringOption(values, 'seed') ?? null,
      strength: numberOption(values, 'strength', 'number') ?? null,
    },
    settings,
    { limitOwner: 'bot' },
  );

  const device = stringOption(values, 'device');
  if (device !== undefined && device !== 'cpu' && device !== 'cuda')
    throw new UserError('options.device', `Expected \`--device\` to be cpu or cuda, got \`${device}\`.`);
  const decoder = stringOption(values, 'decoder');
  if (decoder !== undefined && decoder !== 'vae' && decoder !== 'tiny')
    throw new UserError('options.decoder', `Expected \`--decoder\` to be vae or tiny, got \`${decoder}\`.`);
  const outputs = await OutputFiles.claim(
    outputPaths(resolve(io.cwd, stringOption(values, 'out') ?? `${kind}-${options.seed}.png`), options.count),
  );
  let worker: PipelineWorker;
  try {
    worker = await PipelineWorker.start({
      modelDir,
      runtime: runtimeOptionsFrom(config, device),
      engine: { ...engineOptionsFrom(config), ...(decoder ? { finalDecoder: decoder } : {}) },
    });
  } catch (error) {
    await outputs.discard();
    throw error;
  }
  worker.on('log', (level: string, message: string) => io.stderr.write(`${level}: ${message}\n`));
  try {
    const info = worker.info;
    let target = { width: options.width, height: options.height };
    let initImage: InitImage | undefined;
    if (sourceBytes) {
      const explicitSize = width !== undefined || height !== undefined;
      const prepared = await prepareInitImage(sourceBytes, explicitSize ? target : undefined, {
        maxPixels: config.limits.maxSourcePixels,
        maxOutputPixels: settings.maxPixels,
        maxSide: imageSide.max,
        multipleOf: info.description.sizeMultiple,
      });
      target = { width: prepared.width, height: prepared.height };
      initImage = prepared;
    }

    const spec: JobSpec = { kind, ...options, ...target, sourceImageUrl: null };
    const call = toPipelineBatch([{ job: spec, initImage }], rng);
    const bar = new StepProgressBar(io.stderr, kind);
    const result = await worker.run(call.jobs, call.parameters, { onProgress: (p) => bar.update(p.step, p.totalSteps, p.elapsedMs) });
    bar.finish();
    const job = result.jobs[0]!;
    for (const [which, report] of [
      ['prompt', job.prompt],
      ['negative prompt', job.negativePrompt],
    ] as const) {
      if (report.truncated)
        io.stderr.write(
          `note: the ${which} has ${report.tokenCount} tokens, more than the ${report.maxTokens} read; ignored: "${report.droppedText}"\n`,
        );
    }

    const tiny = info.description.finalDecoder === 'tiny';
    const pngs = await renderPngs(job.images, spec, { rng, modelName: info.description.name, ...(tiny ? { vaeDecoder: 'TAESD' } : {}) });
    for (const [index, png] of pngs.entries()) io.stdout.write(`${await outputs.write(index, png)}\n`);
    const t = result.timings;
    io.stderr.write(
      `${kind}: ${target.width}x${target.height}, ${t.steps} steps, seed ${options.seed}, ${(t.totalMs / 1000).toFixed(2)} s ` +
        `(denoise ${(t.denoiseMs / 1000).toFixed(2)} s, ${(t.denoiseMs / Math.max(1, t.steps)).toFixed(0)} ms/step; ` +
        `decode ${(t.decodeMs / 1000).toFixed(2)} s with ${tiny ? 'the tiny decoder (TAESD)' : 'the VAE decoder'}) on ${info.device}\n`,
    );
  } finally {
    await outputs.discard();
    await worker.close();
  }
}

/** `x.png` for one image; `x-1.png`, `x-2.png`, … for several. */
export function outputPaths(outPath: string, count: number): string[] {
  if (count === 1) return [outPath];
  const extension = extname(outPath) || '.png';
  const stem = extname(outPath) ? outPath.slice(0, -extension.length) : outPath;
  return Array.from({ length: count }, (_, i) => `${stem}-${i + 1}${extension}`);
}
