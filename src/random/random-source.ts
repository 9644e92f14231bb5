/**
 * A source of standard-normal random numbers, drawn in the same order and with the same values as a
 * `torch.Generator` handed to diffusers.
 */
export interface RandomSource {
  /**
   * Draws a float32 tensor of standard-normal values, like `torch.randn(shape, generator=g)`.
   * The result is row-major (C order) with `shape.reduce((a, b) => a * b)` elements.
   */
  randn(shape: readonly number[]): Float32Array;
}
