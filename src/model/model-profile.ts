import type { ModelFolder } from './model-folder.js';

/** What kind of model a folder holds, as far as good default settings go. */
export type ModelKind = 'standard' | 'turbo' | 'lcm';

/** Settings that suit a model; they replace the configured defaults when `modelDefaults` is `auto`. */
export interface RecommendedSettings {
  readonly steps: number;
  readonly guidance: number;
  readonly scheduler: 'euler' | 'lcm';
}

/** The detected kind of model and, for few-step models, the settings it wants. */
export interface ModelProfile {
  readonly kind: ModelKind;
  /** Why the folder was classified so (for `info` and the logs). */
  readonly reason: string;
  /** Undefined for standard models: the configured defaults apply as they are. */
  readonly recommended?: RecommendedSettings;
}

/**
 * Recognises few-step models from the folder's own configuration:
 * - LCM: an `LCMScheduler` config or a UNet with `time_cond_proj_dim` (LCM-distilled) → 4 steps with the LCM
 *   scheduler; guidance 8 feeds the guidance embedding of distilled UNets (LCM-Dreamshaper's recommendation) and
 *   is 1 (off) for LCM-LoRA-style UNets without it.
 * - SD-Turbo style: an Euler scheduler with `timestep_spacing: "trailing"` (how SD-Turbo/SDXL-Turbo ship) →
 *   1 step, guidance 0 (the models are trained without classifier-free guidance).
 */
export function detectModelProfile(folder: ModelFolder): ModelProfile {
  const scheduler = folder.schedulerConfig;
  const className = String(scheduler['_class_name'] ?? '');
  if (className === 'LCMScheduler' || folder.timeCondProjDim !== undefined) {
    const embedded = folder.timeCondProjDim !== undefined;
    return {
      kind: 'lcm',
      reason: embedded ? `UNet has time_cond_proj_dim ${folder.timeCondProjDim} (LCM-distilled)` : 'scheduler is LCMScheduler',
      recommended: { steps: 4, guidance: embedded ? 8 : 1, scheduler: 'lcm' },
    };
  }
  if (/^Euler(Ancestral)?DiscreteScheduler$/.test(className) && scheduler['timestep_spacing'] === 'trailing') {
    return {
      kind: 'turbo',
      reason: `${className} with trailing timestep spacing (SD-Turbo style)`,
      recommended: { steps: 1, guidance: 0, scheduler: 'euler' },
    };
  }
  return { kind: 'standard', reason: `${className || 'unknown scheduler'}: a multi-step model` };
}

/** Default settings with a few-step model's recommendations applied (`modelDefaults: "auto"`). */
export function withModelDefaults<T extends { steps: number; guidance: number; scheduler: string; maxSteps: number }>(
  defaults: T,
  profile: ModelProfile,
  mode: 'auto' | 'config',
): T {
  if (mode !== 'auto' || !profile.recommended) return defaults;
  const { steps, guidance, scheduler } = profile.recommended;
  return { ...defaults, steps: Math.min(steps, defaults.maxSteps), guidance, scheduler };
}
