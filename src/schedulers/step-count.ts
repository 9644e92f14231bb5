import { UserError } from '../errors.js';

/**
 * Rejects a step count a scheduler cannot run: anything but an integer from 1 to `max`
 * (`num_train_timesteps` for most classes, `original_inference_steps` for LCM).
 */
export function validateInferenceSteps(numInferenceSteps: number, max: number): void {
  if (!Number.isInteger(numInferenceSteps) || numInferenceSteps < 1 || numInferenceSteps > max) {
    throw new UserError(
      'scheduler.steps',
      `Expected \`numInferenceSteps\` to be an integer from 1 to ${max}, got \`${String(numInferenceSteps)}\``,
    );
  }
}

/** Rejects a begin index that is not a non-negative integer (diffusers does not check; a bad one is a bug upstream). */
export function validateBeginIndex(beginIndex: number): void {
  if (!Number.isInteger(beginIndex) || beginIndex < 0) {
    throw new RangeError(`Expected the begin index to be a non-negative integer, got ${String(beginIndex)}`);
  }
}
