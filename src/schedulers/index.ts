import { UserError } from '../errors.js';
import { DDIMScheduler } from './ddim.js';
import { DDPMScheduler } from './ddpm.js';
import { dpmSolverMultistepDefaults, DPMSolverMultistepScheduler } from './dpm-solver-multistep.js';
import { EulerAncestralDiscreteScheduler } from './euler-ancestral-discrete.js';
import { EulerDiscreteScheduler } from './euler-discrete.js';
import { LCMScheduler } from './lcm.js';
import { LMSDiscreteScheduler } from './lms-discrete.js';
import { PNDMScheduler } from './pndm.js';
import type { Scheduler, SchedulerConfig } from './scheduler.js';
import { UniPCMultistepScheduler } from './unipc-multistep.js';

export type { Scheduler, SchedulerConfig, SchedulerStepOutput, StepContext, TimestepDtype } from './scheduler.js';
export {
  DDIMScheduler,
  DDPMScheduler,
  DPMSolverMultistepScheduler,
  EulerAncestralDiscreteScheduler,
  EulerDiscreteScheduler,
  LCMScheduler,
  LMSDiscreteScheduler,
  PNDMScheduler,
  UniPCMultistepScheduler,
};

/** The sampler names users pick from (stable identifiers, used in commands and stored settings). */
export const schedulerNames = ['euler', 'euler-a', 'ddim', 'dpmpp-2m', 'dpmpp-2m-karras', 'lcm', 'pndm', 'lms', 'unipc', 'ddpm'] as const;
/** One of {@link schedulerNames}. */
export type SchedulerName = (typeof schedulerNames)[number];

interface SchedulerEntry {
  readonly className: string;
  readonly label: string;
  /** `from_config` keyword overrides applied on top of the model's scheduler configuration. */
  readonly overrides: SchedulerConfig;
}

const entries: Readonly<Record<SchedulerName, SchedulerEntry>> = {
  euler: { className: 'EulerDiscreteScheduler', label: 'Euler', overrides: {} },
  'euler-a': { className: 'EulerAncestralDiscreteScheduler', label: 'Euler a', overrides: {} },
  ddim: { className: 'DDIMScheduler', label: 'DDIM', overrides: {} },
  'dpmpp-2m': {
    className: 'DPMSolverMultistepScheduler',
    label: 'DPM++ 2M',
    overrides: { algorithm_type: 'dpmsolver++', solver_order: 2, use_karras_sigmas: false },
  },
  'dpmpp-2m-karras': {
    className: 'DPMSolverMultistepScheduler',
    label: 'DPM++ 2M Karras',
    overrides: { algorithm_type: 'dpmsolver++', solver_order: 2, use_karras_sigmas: true },
  },
  lcm: { className: 'LCMScheduler', label: 'LCM', overrides: {} },
  pndm: { className: 'PNDMScheduler', label: 'PLMS', overrides: {} },
  lms: { className: 'LMSDiscreteScheduler', label: 'LMS', overrides: {} },
  unipc: { className: 'UniPCMultistepScheduler', label: 'UniPC', overrides: {} },
  ddpm: { className: 'DDPMScheduler', label: 'DDPM', overrides: {} },
};

const constructors: Readonly<Record<string, new (config: SchedulerConfig) => Scheduler>> = {
  EulerDiscreteScheduler,
  EulerAncestralDiscreteScheduler,
  DDIMScheduler,
  PNDMScheduler,
  LMSDiscreteScheduler,
  DPMSolverMultistepScheduler,
  UniPCMultistepScheduler,
  DDPMScheduler,
  LCMScheduler,
};

/** The diffusers class names this module can build. */
export const schedulerClassNames: readonly string[] = Object.keys(constructors);

/** True when `value` is one of {@link schedulerNames}. */
export function isSchedulerName(value: string): value is SchedulerName {
  return (schedulerNames as readonly string[]).includes(value);
}

/** AUTOMATIC1111's name for a sampler, e.g. `DPM++ 2M Karras`. */
export function schedulerLabel(name: SchedulerName): string {
  return entryFor(name).label;
}

/** {@link schedulerLabel} of a known name; any other (e.g. stored by another version) as it is. */
export function schedulerLabelOrName(name: string): string {
  return isSchedulerName(name) ? schedulerLabel(name) : name;
}

/**
 * Builds the named sampler the way diffusers' `Class.from_config(modelConfig, **overrides)` would: the
 * model folder's `scheduler_config.json` supplies the noise schedule and options, the name decides the class
 * and the few options that define the sampler (for DPM++: algorithm, order, karras sigmas).
 */
export function createScheduler(name: SchedulerName, modelConfig: SchedulerConfig): Scheduler {
  const entry = entryFor(name);
  return createSchedulerByClassName(entry.className, { ...modelConfig, ...entry.overrides });
}

/** `Class.from_config(config)` for a diffusers class name (a model folder's `_class_name`). */
export function createSchedulerByClassName(className: string, config: SchedulerConfig): Scheduler {
  const SchedulerClass = constructors[className];
  if (SchedulerClass === undefined) {
    throw new UserError('scheduler.class', `Unsupported scheduler class \`${className}\`; supported: ${schedulerClassNames.join(', ')}`);
  }
  return new SchedulerClass(config);
}

/**
 * The sampler name whose {@link createScheduler} reproduces a model folder's own scheduler (its
 * `_class_name` and configuration), or undefined when none does (an unsupported class, or options such as a
 * third-order DPM-Solver that no name selects).
 */
export function schedulerNameForClass(className: string, config: SchedulerConfig): SchedulerName | undefined {
  if (className === 'DPMSolverMultistepScheduler') {
    const value = (key: string): unknown => (key in config ? config[key] : dpmSolverMultistepDefaults[key]);
    const algorithm = value('algorithm_type');
    if ((algorithm !== 'dpmsolver++' && algorithm !== 'deis') || value('solver_order') !== 2) return undefined;
    return value('use_karras_sigmas') === true ? 'dpmpp-2m-karras' : 'dpmpp-2m';
  }
  return schedulerNames.find((name) => entries[name].className === className);
}

function entryFor(name: string): SchedulerEntry {
  if (!isSchedulerName(name)) {
    throw new UserError('scheduler.name', `Unknown scheduler \`${name}\`; choose one of ${schedulerNames.join(', ')}`);
  }
  return entries[name];
}
