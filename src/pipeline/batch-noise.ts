import type { RandomSource } from '../random/random-source.js';

/**
 * Draws a batch of latents where each job's rows come from that job's own generator, so a job batched with
 * others gets exactly the numbers it would get alone (diffusers draws `randn([numImages, ...])` from one
 * generator per call). Asking for a shape whose first dimension is not the total image count is a bug.
 */
export class JobRandomSource implements RandomSource {
  private readonly total: number;

  constructor(private readonly segments: readonly { readonly generator: RandomSource; readonly rows: number }[]) {
    this.total = segments.reduce((sum, segment) => sum + segment.rows, 0);
  }

  randn(shape: readonly number[]): Float32Array {
    const [rows, ...rest] = shape;
    if (rows !== this.total) throw new Error(`JobRandomSource: expected ${this.total} rows, asked for [${shape.join(', ')}]`);
    if (this.segments.length === 1) return this.segments[0]!.generator.randn(shape);
    const rowSize = rest.reduce((a, b) => a * b, 1);
    const out = new Float32Array(rows * rowSize);
    let offset = 0;
    for (const { generator, rows: count } of this.segments) {
      out.set(generator.randn([count, ...rest]), offset);
      offset += count * rowSize;
    }
    return out;
  }
}
