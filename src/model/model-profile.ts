import { basename } from 'node:path';
import type { ModelFolder } from './model-folder.js';

/** What kind of model a folder holds, as far as good default settings go. */
export type ModelKind = 'standard' | 'turbo' | 'lightning' | 'lcm';

/** Settings that suit a model; they replace the configured defaults when `modelDefaults` is `auto`. */
export interface RecommendedSettings {
  readonly steps: number;
  readonly guidance: number;
  readonly scheduler: 'euler' | 'lcm';
}

/** The picture size a model draws best at, and where that comes from. */
export interface DefaultSize {
  readonly width: number;
  readonly height: number;
  readonly reason: string;
}

/** The detected kind of model and, for few-step models, the settings it wants. */
export interface ModelProfile {
  readonly kind: ModelKind;
  /** Why the folder was classified so (for `info` and the logs). */
  readonly reason: string;
  /** Undefined for standard models: the configured defaults apply as they are. */
  readonly recommended?: RecommendedSettings;
  /**
   * The size it was trained at: the UNet's `sample_size` × the VAE factor (512² for SD 1.5, 768² for SD 2.x-768,
   * 1024² for SDXL), or the distilled model's own (SDXL-Turbo: 512²). diffusers' default `height`/`width`.
   */
  readonly size: DefaultSize;
}

/** Step counts named in a folder's name, as distillations are published: `…-4step`, `…_8steps`, `2-step`. */
const stepsInName = /(?:^|[^0-9])([1-8])[-_ ]?steps?(?![a-z])/;

/**
 * Recognises few-step models from the folder's own configuration (and, to tell two distillations with identical
 * scheduler configs apart, its name):
 * - LCM: an `LCMScheduler` config or a UNet with `time_cond_proj_dim` (LCM-distilled, also LCM-SDXL) → 4 steps with
 *   the LCM scheduler; guidance 8 feeds the guidance embedding of distilled UNets (LCM-Dreamshaper's and LCM-SDXL's
 *   recommendation) and is 1 (off) for LCM-LoRA-style UNets without it.
 * - Euler with `timestep_spacing: "trailing"`, how SD-Turbo, SDXL-Turbo and SDXL-Lightning ship. Folders named
 *   "lightning" (or "hyper") → SDXL-Lightning style: the step count their name gives (default 4), guidance 0, at the
 *   model's own size. Otherwise Turbo style → 1 step, guidance 0 (trained without classifier-free guidance); an SDXL
 *   Turbo draws at 512×512, the size it was distilled at.
 */
export function detectModelProfile(folder: ModelFolder): ModelProfile {
  const scheduler = folder.schedulerConfig;
  const className = String(scheduler['_class_name'] ?? '');
  const native = folder.nativeResolution;
  const nativeSize: DefaultSize = {
    width: native,
    height: native,
    reason: `the UNet's sample_size ${native / folder.vaeScaleFactor} × VAE factor ${folder.vaeScaleFactor}`,
  };
  if (className === 'LCMScheduler' || folder.timeCondProjDim !== undefined) {
    const embedded = folder.timeCondProjDim !== undefined;
    return {
      kind: 'lcm',
      reason: embedded ? `UNet has time_cond_proj_dim ${folder.timeCondProjDim} (LCM-distilled)` : 'scheduler is LCMScheduler',
      recommended: { steps: 4, guidance: embedded ? 8 : 1, scheduler: 'lcm' },
      size: nativeSize,
    };
  }
  if (/^Euler(Ancestral)?DiscreteScheduler$/.test(className) && scheduler['timestep_spacing'] === 'trailing') {
    const names = `${folder.name} ${basename(folder.dir)}`.toLowerCase();
    if (/lightning|hyper/.test(names)) {
      const steps = Number(stepsInName.exec(names)?.[1] ?? 4);
      return {
        kind: 'lightning',
        reason: `${className} with trailing timestep spacing, named like an SDXL-Lightning/Hyper distillation (${steps} steps)`,
        recommended: { steps, guidance: 0, scheduler: 'euler' },
        size: nativeSize,
      };
    }
    const xl = folder.family === 'stable-diffusion-xl';
    return {
      kind: 'turbo',
      reason: `${className} with trailing timestep spacing (${xl ? 'SDXL-Turbo' : 'SD-Turbo'} style)`,
      recommended: { steps: 1, guidance: 0, scheduler: 'euler' },
      size: xl && native > 512 ? { width: 512, height: 512, reason: 'SDXL-Turbo is distilled at 512×512' } : nativeSize,
    };
  }
  return { kind: 'standard', reason: `${className || 'unknown scheduler'}: a multi-step model`, size: nativeSize };
}

/** The defaults {@link withModelDefaults} may replace. */
export interface ModelDependentDefaults {
  steps: number;
  guidance: number;
  scheduler: string;
  maxSteps: number;
  width: number;
  height: number;
  maxPixels: number;
}

/**
 * Default settings with the model's own applied (`modelDefaults: "auto"`): its size (and `maxPixels` raised to at
 * least that area, so the default is always allowed) and, for few-step models, their steps, guidance and scheduler.
 * Returns `defaults` itself when nothing changes, and always with `config`.
 */
export function withModelDefaults<T extends ModelDependentDefaults>(defaults: T, profile: ModelProfile, mode: 'auto' | 'config'): T {
  if (mode !== 'auto') return defaults;
  const { width, height } = profile.size;
  const recommended = profile.recommended;
  const next: T = {
    ...defaults,
    width,
    height,
    maxPixels: Math.max(defaults.maxPixels, width * height),
    ...(recommended
      ? { steps: Math.min(recommended.steps, defaults.maxSteps), guidance: recommended.guidance, scheduler: recommended.scheduler }
      : {}),
  };
  const keys: (keyof ModelDependentDefaults)[] = ['steps', 'guidance', 'scheduler', 'width', 'height', 'maxPixels'];
  return keys.every((key) => next[key] === defaults[key]) ? defaults : next;
}
