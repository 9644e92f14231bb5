/**
 * The number of elements of a tensor shape (1 for the 0-d shape `[]`, like torch).
 * Throws a RangeError for a dimension that is not a non-negative safe integer or a total above 2^32.
 */
export function numelOf(shape: readonly number[]): number {
  let numel = 1;
  for (const dim of shape) {
    if (!Number.isSafeInteger(dim) || dim < 0) {
      throw new RangeError(`invalid tensor shape [${shape.join(', ')}]: dimensions must be non-negative integers`);
    }
    numel *= dim;
  }
  if (numel > 2 ** 32) throw new RangeError(`tensor shape [${shape.join(', ')}] has too many elements`);
  return numel;
}
