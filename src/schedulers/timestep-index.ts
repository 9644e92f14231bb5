/**
 * diffusers' `index_for_timestep` rules, which decide where a run (or an img2img run without a begin
 * index) starts in the timestep schedule.
 */

/**
 * Euler / LMS / LCM rule: the position of `timestep` in `timesteps`, taking the second occurrence when it
 * appears more than once (so that an img2img start never skips a sigma). Throws when absent.
 */
export function indexForTimestep(timesteps: readonly number[], timestep: number, className: string): number {
  const first = timesteps.indexOf(timestep);
  if (first < 0) throw new RangeError(`${className}: timestep ${timestep} is not in the current schedule`);
  const second = timesteps.indexOf(timestep, first + 1);
  return second < 0 ? first : second;
}

/** DPM-Solver / UniPC rule: like {@link indexForTimestep} but an absent timestep means the last index. */
export function indexForTimestepOrLast(timesteps: readonly number[], timestep: number): number {
  const first = timesteps.indexOf(timestep);
  if (first < 0) return timesteps.length - 1;
  const second = timesteps.indexOf(timestep, first + 1);
  return second < 0 ? first : second;
}

/**
 * The index `add_noise` uses: with no begin index the timestep is searched; after the first step (an
 * inpainting loop) the current step index; before it (img2img) the begin index.
 */
export function addNoiseIndex(beginIndex: number | undefined, stepIndex: number | undefined, search: () => number): number {
  if (beginIndex === undefined) return search();
  if (stepIndex !== undefined) return stepIndex;
  return beginIndex;
}
