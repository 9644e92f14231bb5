/**
 * Denoising steps a run of `steps` at `strength` really takes: all of them for text-to-image, and
 * `int(steps × strength)` for image-to-image, as diffusers' img2img skips the first ones.
 */
export function denoisingSteps(kind: 'imagine' | 'remix', steps: number, strength: number): number {
  return kind === 'remix' ? Math.min(steps, Math.floor(steps * strength)) : steps;
}

/**
 * After how many denoising steps a job shows a live preview, from the server's `previewEverySteps` (`0`:
 * never). `auto` is about every quarter of the run; a run of one or two steps gets none, since its result
 * follows a preview at once.
 */
export function previewEveryStepsFor(setting: number | 'auto', stepsRun: number): number {
  if (setting !== 'auto') return setting;
  if (stepsRun <= 2) return 0;
  return Math.max(1, Math.round(stepsRun / 4));
}
