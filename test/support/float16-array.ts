import { float16BitsToFloat32, float32ToFloat16Bits } from './onnx/float16.js';

/**
 * A `Float16Array` for Node versions that have none (Node < 24): elements read and written as numbers,
 * rounded to half precision (ties to even), stored as half bits in an ArrayBuffer. Enough of the
 * standard class for onnxruntime-common, which builds one with `new Float16Array(buffer, byteOffset,
 * length)` for every float16 tensor once `globalThis.Float16Array` exists, and for code that reads them.
 */
export class Float16ArrayForTests {
  static readonly BYTES_PER_ELEMENT = 2;
  readonly BYTES_PER_ELEMENT = 2;
  private readonly bits: Uint16Array;

  constructor(source: number | ArrayBufferLike | ArrayLike<number> = 0, byteOffset?: number, length?: number) {
    if (typeof source === 'number') this.bits = new Uint16Array(source);
    else if (source instanceof ArrayBuffer || source instanceof SharedArrayBuffer) this.bits = new Uint16Array(source, byteOffset, length);
    else this.bits = Uint16Array.from(Array.from(source as ArrayLike<number>, float32ToFloat16Bits));
    // Integer-indexed access converts between numbers and half bits, as a typed array's own elements would.
    return new Proxy(this, {
      get(target, key) {
        if (typeof key === 'string' && /^(0|[1-9]\d*)$/.test(key)) {
          const bits = target.bits[Number(key)];
          return bits === undefined ? undefined : float16BitsToFloat32(bits);
        }
        return Reflect.get(target, key, target);
      },
      set(target, key, value, receiver) {
        if (typeof key === 'string' && /^(0|[1-9]\d*)$/.test(key)) {
          if (Number(key) < target.bits.length) target.bits[Number(key)] = float32ToFloat16Bits(Number(value));
          return true;
        }
        return Reflect.set(target, key, value, receiver);
      },
    });
  }

  static from(values: Iterable<number> | ArrayLike<number>): Float16ArrayForTests {
    return new Float16ArrayForTests(Array.from(values as ArrayLike<number>));
  }

  get length(): number {
    return this.bits.length;
  }

  get buffer(): ArrayBufferLike {
    return this.bits.buffer;
  }

  get byteOffset(): number {
    return this.bits.byteOffset;
  }

  get byteLength(): number {
    return this.bits.byteLength;
  }

  *[Symbol.iterator](): IterableIterator<number> {
    for (const bits of this.bits) yield float16BitsToFloat32(bits);
  }
}

/**
 * Makes `globalThis.Float16Array` exist as on Node ≥ 24: the runtime's own class when there is one, else
 * {@link Float16ArrayForTests}. Call before the first onnxruntime tensor is made (onnxruntime-common looks
 * for the global once per process).
 */
export function installFloat16Array(): new (...args: never[]) => unknown {
  const global = globalThis as { Float16Array?: new (...args: never[]) => unknown };
  global.Float16Array ??= Float16ArrayForTests as unknown as new (...args: never[]) => unknown;
  return global.Float16Array;
}
