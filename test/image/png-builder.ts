import { crc32, deflateSync } from 'node:zlib';

/** PNG colour types (PNG spec table 11.1). */
export const ColourType = { grey: 0, rgb: 2, greyAlpha: 4, rgba: 6 } as const;

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

/** One serialised PNG chunk (length, type, data, CRC-32), written independently of the code under test. */
export function chunk(type: string, data: Uint8Array): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(Buffer.concat([Buffer.from(type, 'latin1'), data])), 8 + data.length);
  return out;
}

/** An IHDR chunk's data. */
export function ihdr(width: number, height: number, bitDepth: 8 | 16, colourType: number): Buffer {
  const data = Buffer.alloc(13);
  data.writeUInt32BE(width, 0);
  data.writeUInt32BE(height, 4);
  data[8] = bitDepth;
  data[9] = colourType;
  return data;
}

/**
 * A minimal non-interlaced PNG built by hand: `samples` are row-major, channel-interleaved sample values (0–255 for
 * 8-bit, 0–65535 for 16-bit). `extraChunks` go right after IHDR.
 */
export function buildPng(opts: {
  width: number;
  height: number;
  bitDepth: 8 | 16;
  colourType: number;
  samples: ArrayLike<number>;
  extraChunks?: Buffer[];
}): Buffer {
  const { width, height, bitDepth, colourType, samples } = opts;
  const channels = CHANNELS[colourType]!;
  const bytesPerSample = bitDepth / 8;
  if (samples.length !== width * height * channels) throw new Error('sample count mismatch');
  const rowBytes = width * channels * bytesPerSample;
  const raw = Buffer.alloc(height * (1 + rowBytes));
  for (let y = 0; y < height; y++) {
    raw[y * (1 + rowBytes)] = 0;
    for (let i = 0; i < width * channels; i++) {
      const value = samples[y * width * channels + i]!;
      const at = y * (1 + rowBytes) + 1 + i * bytesPerSample;
      if (bitDepth === 8) raw[at] = value;
      else raw.writeUInt16BE(value, at);
    }
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr(width, height, bitDepth, colourType)),
    ...(opts.extraChunks ?? []),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/**
 * A "decompression bomb": a 60-odd-byte PNG whose IHDR declares `width` x `height` RGB pixels, with one tiny IDAT.
 * Decoding it would need width*height*3 bytes of memory.
 */
export function buildBombPng(width = 60000, height = 60000): Buffer {
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr(width, height, 8, ColourType.rgb)),
    chunk('IDAT', deflateSync(Buffer.alloc(64))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** The chunk types of a PNG file in order (independent parser for assertions). */
export function chunkTypes(png: Uint8Array): string[] {
  const buf = Buffer.from(png.buffer, png.byteOffset, png.byteLength);
  const types: string[] = [];
  let at = 8;
  while (at + 12 <= buf.length) {
    const length = buf.readUInt32BE(at);
    types.push(buf.toString('latin1', at + 4, at + 8));
    at += 12 + length;
  }
  return types;
}
