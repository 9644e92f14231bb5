function greatestCommonDivisor(a: number, b: number): number {
  return b === 0 ? a : greatestCommonDivisor(b, a % b);
}

/** Which live previews a batch asks the pipeline for, and which of them each job of the batch shows. */
export interface BatchPreviewPlan {
  /** A preview after every this many steps (0: none): every step at which some job of the batch wants one. */
  readonly everySteps: number;
  /** Whether job `jobIndex` of the batch shows the preview drawn after `step`. */
  wants(jobIndex: number, step: number): boolean;
}

/**
 * The previews of a batch whose jobs want one every `cadences[i]` steps (0: none): the pipeline draws at the
 * greatest common divisor of the cadences, so jobs of different servers share a batch and still each see
 * previews at their own cadence.
 */
export function batchPreviewPlan(cadences: readonly number[]): BatchPreviewPlan {
  const everySteps = cadences.reduce((divisor, cadence) => greatestCommonDivisor(cadence, divisor), 0);
  return {
    everySteps,
    wants: (jobIndex, step) => {
      const own = cadences[jobIndex] ?? 0;
      return own > 0 && step % own === 0;
    },
  };
}
