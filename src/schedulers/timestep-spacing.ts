import { numpyArange, numpyLinspace, roundHalfEven } from './numpy-compat.js';

/** The `timestep_spacing` values of Table 2 in Lin et al., "Common Diffusion Noise Schedules and Sample Steps are Flawed". */
export const timestepSpacings = ['linspace', 'leading', 'trailing'] as const;
/** A `timestep_spacing` value. */
export type TimestepSpacing = (typeof timestepSpacings)[number];

/**
 * Descending timesteps shared by the Euler family (float32 `linspace` values, otherwise integers) and
 * by DDIM / DDPM (all integers):
 * - linspace: `linspace(0, T − 1, n)` reversed (float32 for Euler; rounded half-to-even for DDIM/DDPM);
 * - leading: `round(arange(n) · (T // n))` reversed, plus `steps_offset`;
 * - trailing: `round(arange(T, 0, −T / n)) − 1`.
 */
export function spacedTimesteps(
  spacing: TimestepSpacing,
  numTrainTimesteps: number,
  numInferenceSteps: number,
  stepsOffset: number,
  linspaceMode: 'float32' | 'round',
): number[] {
  switch (spacing) {
    case 'linspace': {
      const values = Array.from(numpyLinspace(0, numTrainTimesteps - 1, numInferenceSteps)).reverse();
      return values.map((value) => (linspaceMode === 'float32' ? Math.fround(value) : roundHalfEven(value)));
    }
    case 'leading': {
      const ratio = Math.floor(numTrainTimesteps / numInferenceSteps);
      const values: number[] = [];
      for (let i = numInferenceSteps - 1; i >= 0; i--) values.push(i * ratio + stepsOffset);
      return values;
    }
    case 'trailing':
      return trailingTimesteps(numTrainTimesteps, numTrainTimesteps, numInferenceSteps);
  }
}

/** `round(arange(start, 0, −T / n)) − 1`, descending (trailing spacing; `start` is T or DPM's clipped T). */
export function trailingTimesteps(start: number, numTrainTimesteps: number, numInferenceSteps: number): number[] {
  const ratio = numTrainTimesteps / numInferenceSteps;
  return Array.from(numpyArange(start, 0, -ratio), (value) => roundHalfEven(value) - 1);
}

/**
 * The multistep solvers' spacing (DPM-Solver, UniPC), built on `n + 1` points with the last dropped:
 * - linspace: `round(linspace(0, last − 1, n + 1))` reversed without its final 0;
 * - leading: `round(arange(n + 1) · (last // (n + 1)))` reversed without the final 0, plus `steps_offset`;
 * - trailing: `round(arange(last, 0, −T / n)) − 1`.
 */
export function multistepTimesteps(
  spacing: TimestepSpacing,
  lastTimestep: number,
  numTrainTimesteps: number,
  numInferenceSteps: number,
  stepsOffset: number,
): number[] {
  switch (spacing) {
    case 'linspace': {
      const values = Array.from(numpyLinspace(0, lastTimestep - 1, numInferenceSteps + 1), roundHalfEven).reverse();
      return values.slice(0, -1);
    }
    case 'leading': {
      const ratio = Math.floor(lastTimestep / (numInferenceSteps + 1));
      const values: number[] = [];
      for (let i = numInferenceSteps; i >= 1; i--) values.push(i * ratio + stepsOffset);
      return values;
    }
    case 'trailing':
      return trailingTimesteps(lastTimestep, numTrainTimesteps, numInferenceSteps);
  }
}
