import { crc32, inflateSync } from 'node:zlib';

/** The 8-byte signature every PNG file starts with. */
export const PNG_SIGNATURE: Uint8Array = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

/** Pillow's `MAX_TEXT_CHUNK`: a compressed text chunk may not inflate to more than this many bytes. */
export const MAX_TEXT_CHUNK = 1024 * 1024;

/** Pillow's `MAX_TEXT_MEMORY`: the text chunks of one file together may not exceed this many bytes. */
export const MAX_TEXT_MEMORY = 64 * 1024 * 1024;

/** One chunk of a PNG file, located in the file's bytes. */
export interface PngChunk {
  /** Four-letter chunk type, e.g. `IHDR`, `tEXt`. */
  type: string;
  /** Offset of the chunk's length field in the file. */
  offset: number;
  /** The chunk's data (a view into the file's bytes). */
  data: Uint8Array;
  /** Whether the stored CRC-32 matches the type and data. */
  crcOk: boolean;
}

/** True when `bytes` starts with the PNG signature. */
export function hasPngSignature(bytes: Uint8Array): boolean {
  if (bytes.length < PNG_SIGNATURE.length) return false;
  return PNG_SIGNATURE.every((value, i) => bytes[i] === value);
}

/**
 * Lists the chunks of a PNG file in order. Stops quietly at the end of the data, after `IEND`, or at the first
 * chunk whose declared length runs past the end (a truncated file). Returns `[]` when the signature is missing.
 */
export function listPngChunks(bytes: Uint8Array): PngChunk[] {
  if (!hasPngSignature(bytes)) return [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const chunks: PngChunk[] = [];
  let offset = PNG_SIGNATURE.length;
  while (offset + 12 <= bytes.length) {
    const length = view.getUint32(offset);
    if (offset + 12 + length > bytes.length) break;
    const type = Buffer.from(bytes.buffer, bytes.byteOffset + offset + 4, 4).toString('latin1');
    const typeAndData = bytes.subarray(offset + 4, offset + 8 + length);
    const storedCrc = view.getUint32(offset + 8 + length);
    chunks.push({ type, offset, data: bytes.subarray(offset + 8, offset + 8 + length), crcOk: crc32(typeAndData) === storedCrc });
    offset += 12 + length;
    if (type === 'IEND') break;
  }
  return chunks;
}

/** Serialises one chunk: big-endian length, type, data, CRC-32 of type and data (PNG spec section 5.3). */
export function encodePngChunk(type: string, data: Uint8Array): Buffer {
  if (!/^[A-Za-z]{4}$/.test(type)) throw new RangeError(`Expected a four-letter PNG chunk type, got ${JSON.stringify(type)}`);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  out.set(data, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}

/** Returns a copy of `png` with `chunks` (already serialised) inserted right after the IHDR chunk. */
export function insertAfterIhdr(png: Uint8Array, chunks: readonly Uint8Array[]): Buffer {
  const first = listPngChunks(png)[0];
  if (first === undefined || first.type !== 'IHDR') throw new Error('Not a PNG file: IHDR chunk not found');
  const ihdrEnd = first.offset + 12 + first.data.length;
  return Buffer.concat([png.subarray(0, ihdrEnd), ...chunks, png.subarray(ihdrEnd)]);
}

/** True when every UTF-16 code unit of `text` is in Latin-1 (U+0000–U+00FF), i.e. Python's `encode('latin-1')` succeeds. */
export function isLatin1(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return false;
  return true;
}

/**
 * The chunk Pillow's `PngInfo.add_text(key, value)` writes (and so AUTOMATIC1111's `parameters`): `tEXt` with
 * Latin-1 text when the value is Latin-1, otherwise `iTXt` with UTF-8 text, no compression, empty language tag
 * and empty translated keyword. Keys must be 1–79 Latin-1 characters without NUL (PNG spec section 11.3.4).
 */
export function encodeTextChunk(key: string, value: string): Buffer {
  if (key.length < 1 || key.length > 79 || !isLatin1(key) || key.includes('\0')) {
    throw new RangeError(`Expected a PNG text keyword of 1 to 79 Latin-1 characters, got ${JSON.stringify(key.slice(0, 100))}`);
  }
  const keyBytes = Buffer.from(key, 'latin1');
  if (isLatin1(value)) return encodePngChunk('tEXt', Buffer.concat([keyBytes, Buffer.of(0), Buffer.from(value, 'latin1')]));
  // keyword NUL, compression flag 0, compression method 0, language tag "" NUL, translated keyword "" NUL, text
  return encodePngChunk('iTXt', Buffer.concat([keyBytes, Buffer.of(0, 0, 0, 0, 0), Buffer.from(value, 'utf8')]));
}

/**
 * Reads the tEXt, zTXt and iTXt chunks of a PNG file into a key → text map, as Pillow's `PngImageFile.text` does:
 * tEXt/zTXt are Latin-1, iTXt is UTF-8; a later chunk with the same key wins. Chunks with a bad CRC, an unknown
 * compression method, invalid UTF-8, or that inflate beyond {@link MAX_TEXT_CHUNK} are skipped. Returns `{}` for
 * bytes that are not a PNG file.
 */
export function readPngText(bytes: Uint8Array): Record<string, string> {
  const text: Record<string, string> = Object.create(null) as Record<string, string>;
  let budget = MAX_TEXT_MEMORY;
  for (const chunk of listPngChunks(bytes)) {
    if (!chunk.crcOk || (chunk.type !== 'tEXt' && chunk.type !== 'zTXt' && chunk.type !== 'iTXt')) continue;
    const entry = decodeTextChunk(chunk.type, chunk.data);
    if (entry === undefined) continue;
    budget -= entry[1].length;
    if (budget < 0) break;
    text[entry[0]] = entry[1];
  }
  return { ...text };
}

function decodeTextChunk(type: string, data: Uint8Array): [string, string] | undefined {
  const keyEnd = data.indexOf(0);
  const key = Buffer.from(keyEnd < 0 ? data : data.subarray(0, keyEnd)).toString('latin1');
  if (key === '') return undefined;
  if (type === 'tEXt') return [key, keyEnd < 0 ? '' : Buffer.from(data.subarray(keyEnd + 1)).toString('latin1')];
  if (keyEnd < 0) return undefined;
  if (type === 'zTXt') {
    if (data[keyEnd + 1] !== 0) return undefined;
    const inflated = safeInflate(data.subarray(keyEnd + 2));
    return inflated === undefined ? undefined : [key, inflated.toString('latin1')];
  }
  const compressed = data[keyEnd + 1];
  const method = data[keyEnd + 2];
  const languageEnd = data.indexOf(0, keyEnd + 3);
  if (languageEnd < 0) return undefined;
  const translatedEnd = data.indexOf(0, languageEnd + 1);
  if (translatedEnd < 0) return undefined;
  let raw: Uint8Array | undefined = data.subarray(translatedEnd + 1);
  if (compressed === 1) {
    raw = method === 0 ? safeInflate(raw) : undefined;
    if (raw === undefined) return undefined;
  }
  try {
    return [key, new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(raw)];
  } catch {
    return undefined;
  }
}

function safeInflate(data: Uint8Array): Buffer | undefined {
  try {
    return inflateSync(data, { maxOutputLength: MAX_TEXT_CHUNK });
  } catch {
    return undefined;
  }
}
