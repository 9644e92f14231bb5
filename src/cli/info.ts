import { byteSize } from '../byte-size.js';
import type { Config } from '../config/index.js';
import { defaultMaxPromptTokens } from '../pipeline/prompt/index.js';
import { onnxruntimeVersion, supportedBackends } from '../runtime/onnx-session.js';
import { autoTilingMinLatentArea } from '../pipeline/components/vae.js';
import { PipelineWorker } from '../worker/pipeline-worker.js';
import { parseCommandArgs, stringOption } from './args.js';
import type { CliIo } from './generate.js';
import { engineOptionsFrom, runtimeOptionsFrom } from '../worker/runtime-options.js';
import { resolveModelDir } from './runtime-config.js';
import { describeSafetyChecker, safetyCheckerReport } from './safety-checker-info.js';
import { estimateCpuMemoryBytes } from '../worker/memory-check.js';
import type { PipelineDescription } from '../pipeline/stable-diffusion.js';

/** The family line and, per text encoder, which output conditions the UNet. */
function familyLines(d: PipelineDescription): string[] {
  const xl = d.family === 'stable-diffusion-xl';
  const lines = [`family           ${xl ? 'Stable Diffusion XL' : 'Stable Diffusion 1.x/2.x'} (${d.familyReason})`];
  for (const [i, encoder] of d.textEncoders.entries()) {
    lines.push(
      `text encoder ${xl ? String(i + 1) : ' '}   ${encoder.hiddenState}${encoder.pooled ? ' + pooled text_embeds' : ''}, ids ${encoder.idsType}, pad id ${encoder.padToken}, output ${encoder.outputType}`,
    );
  }
  if (xl) {
    lines.push(
      `added conditions text_embeds + time_ids (original size, crop, target size); no negative prompt → ${d.forceZerosForEmptyPrompt ? 'zeros (force_zeros_for_empty_prompt)' : 'the encoded empty prompt'}`,
    );
  }
  return lines;
}

/** What `info` says about the longest prompt the model reads. */
function promptLengthLine(maxPromptChunks: number | null, modelMaxLength: number): string {
  const chunk = modelMaxLength - 2;
  if (maxPromptChunks === null) {
    return `any number of ${chunk}-token chunks (the UNet's text axis is dynamic); ${defaultMaxPromptTokens} tokens read by default`;
  }
  return (
    `at most ${maxPromptChunks * chunk} tokens (${maxPromptChunks} chunk${maxPromptChunks === 1 ? '' : 's'}): the UNet fixes ` +
    `encoder_hidden_states at ${maxPromptChunks * modelMaxLength} tokens; a re-export with a dynamic sequence axis reads longer prompts`
  );
}

/** Usage line of `info`. */
export const infoUsage = 'latentcord info [--model DIR] [--device cpu|cuda] [--json]';

/** `info`: loads the model folder and reports what was detected in it and where it runs. */
export async function runInfoCommand(argv: readonly string[], config: Config, io: CliIo): Promise<void> {
  const { values } = parseCommandArgs(
    argv,
    { model: { type: 'string' }, device: { type: 'string' }, json: { type: 'boolean' } },
    infoUsage,
  );
  const modelDir = resolveModelDir(config, stringOption(values, 'model'), io.cwd);
  const device = stringOption(values, 'device') === 'cuda' ? 'cuda' : undefined;
  const worker = await PipelineWorker.start({
    modelDir,
    runtime: runtimeOptionsFrom(config, device),
    engine: { ...engineOptionsFrom(config), safetyChecker: false },
  });
  try {
    const safetyChecker = await safetyCheckerReport(modelDir, { ...runtimeOptionsFrom(config, device), device: worker.info.device });
    const { description: d, device: used, deviceFallbackReason, loadMs } = worker.info;
    const report = {
      ...d,
      device: used,
      ...(deviceFallbackReason ? { deviceFallbackReason } : {}),
      loadSeconds: Number((loadMs / 1000).toFixed(2)),
      onnxruntime: onnxruntimeVersion,
      backends: supportedBackends().map((b) => b.name),
      safetyChecker,
    };
    if (values['json']) {
      io.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
      return;
    }
    const precision = d.unetFloatType === 'float16' ? 'fp16' : 'fp32';
    const size = d.profile.size;
    const vaeRisk =
      d.vaeDecoderFloatType === 'float16' && d.vaeForceUpcast
        ? ' — fp16 VAE whose config asks for fp32 (force_upcast): it may overflow into black or NaN pictures; an fp16-fixed VAE (madebyollin/sdxl-vae-fp16-fix) avoids that'
        : '';
    const lines = [
      `model            ${d.name} (${d.dir})`,
      ...familyLines(d),
      `precision        ${precision} (UNet ${d.unetFloatType}, VAE decoder ${d.vaeDecoderFloatType}, text encoder out ${d.textEncoderOutputType})`,
      `token ids        ${d.textEncoderIdsType}, ${d.modelMaxLength} tokens, pad id ${d.padToken}`,
      `prompt length    ${promptLengthLine(d.maxPromptChunks, d.modelMaxLength)}`,
      `timestep         ${d.timestep.type} ${d.timestep.shape === 'scalar' ? 'scalar' : d.timestep.shape === 'single' ? '[1]' : '[batch]'}`,
      `model kind       ${d.profile.kind} (${d.profile.reason})${d.profile.recommended ? ` → defaults ${d.profile.recommended.steps} steps, guidance ${d.profile.recommended.guidance}, ${d.profile.recommended.scheduler}` : ''}`,
      `guidance         ${d.timestepCondDim !== undefined ? `embedded (LCM, timestep_cond ${d.timestepCondDim})` : 'classifier-free'}`,
      `prediction type  ${d.predictionType}`,
      `scheduler config ${d.schedulerClass}, timestep_spacing ${d.timestepSpacing}`,
      `image-to-image   ${d.vaeEncoder === 'absent' ? 'not available (no vae_encoder)' : `yes (VAE encoder outputs ${d.vaeEncoder === 'parameters' ? 'latent_parameters' : 'latent_sample'})`}`,
      `VAE scaling      ${d.vaeScalingFactor}${d.vaeForceUpcast ? ', force_upcast' : ''}${vaeRisk}`,
      `final decoder    ${d.finalDecoder === 'tiny' ? `tiny (TAESD-class, ${d.tinyDecoder})` : `VAE decoder${vaeTilingText(d.vaeTiling)}`}`,
      `previews         ${d.tinyDecoder ? `tiny decoder (${d.tinyDecoder}) or the linear latent→RGB map` : 'linear latent→RGB map (no vae_decoder_tiny/)'}`,
      `UNet batch       ${d.maxUnetBatch === 0 ? 'whole batch per run' : `at most ${d.maxUnetBatch} latent row${d.maxUnetBatch === 1 ? '' : 's'} per run`}`,
      `sizes            multiples of ${d.sizeMultiple}, native ${d.nativeResolution}x${d.nativeResolution}; default ${size.width}x${size.height} (${size.reason})`,
      `memory           ${byteSize(d.weightBytes)} of graphs and weights; about ${byteSize(estimateCpuMemoryBytes(d.weightBytes))} to run on the CPU`,
      `device           ${used}${deviceFallbackReason ? ` (CUDA unavailable: ${deviceFallbackReason})` : ''}; onnxruntime-node ${onnxruntimeVersion}`,
      `safety checker   ${describeSafetyChecker(safetyChecker)}`,
      `load time        ${(loadMs / 1000).toFixed(2)} s`,
    ];
    io.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await worker.close();
  }
}

function vaeTilingText(tiling: { readonly mode: string; readonly tileLatentSize: number }): string {
  const tile = tiling.tileLatentSize * 8;
  if (tiling.mode === 'never') return ', never tiled';
  if (tiling.mode === 'always') return `, tiled (${tile}-pixel tiles) when a side exceeds ${tile}`;
  const side = Math.sqrt(autoTilingMinLatentArea) * 8;
  return `, tiled (${tile}-pixel tiles) above ${side}x${side}`;
}
