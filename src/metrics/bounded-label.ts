/** Label value used for values past the limit or not shaped like an identifier. */
export const otherLabelValue = 'other';

const identifierShape = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

/**
 * Keeps a Prometheus label's cardinality bounded: the first `limit` distinct identifier-shaped values are
 * passed through, later new ones and anything else (free text, ids, empty strings) become `other`. Error
 * identifiers are a fixed set in the code, so in practice the limit is never reached; it guards against a
 * bug turning a message or an id into a label.
 */
export class BoundedLabel {
  private readonly seen = new Set<string>();

  /** @param limit Most distinct values kept besides `other`. */
  constructor(private readonly limit: number) {}

  /** The label value to use for `value`. */
  valueFor(value: string): string {
    if (this.seen.has(value)) return value;
    if (!identifierShape.test(value) || value === otherLabelValue || this.seen.size >= this.limit) return otherLabelValue;
    this.seen.add(value);
    return value;
  }
}
