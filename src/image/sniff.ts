/** The picture formats latentcord reads. */
export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'gif' | 'avif';

/** What the first bytes of a file say it is. */
export type SniffResult = { kind: 'supported'; format: ImageFormat } | { kind: 'unsupported'; name: string } | { kind: 'unknown' };

/** Human names of the supported formats, for messages. */
export const SUPPORTED_FORMAT_NAMES = 'PNG, JPEG, WebP, GIF, AVIF';

function startsWith(bytes: Uint8Array, prefix: readonly number[], at = 0): boolean {
  if (bytes.length < at + prefix.length) return false;
  return prefix.every((value, i) => bytes[at + i] === value);
}

function ascii(bytes: Uint8Array, start: number, end: number): string {
  return String.fromCharCode(...bytes.subarray(start, Math.min(end, bytes.length)));
}

/** ISO-BMFF `ftyp` brands (major and compatible) of a HEIF-family file, or undefined when there is no `ftyp` box. */
function ftypBrands(bytes: Uint8Array): string[] | undefined {
  if (bytes.length < 16 || ascii(bytes, 4, 8) !== 'ftyp') return undefined;
  const boxSize = Math.min(((bytes[0]! << 24) >>> 0) + (bytes[1]! << 16) + (bytes[2]! << 8) + bytes[3]!, bytes.length, 4096);
  const brands = [ascii(bytes, 8, 12)];
  for (let at = 16; at + 4 <= boxSize; at += 4) brands.push(ascii(bytes, at, at + 4));
  return brands;
}

/**
 * Identifies a file by its magic bytes, before any decoder sees it, so that only the decoders of the supported
 * formats ever parse user data (no SVG/XML, PDF, TIFF or other loaders). Well-known other picture formats are
 * named so the user can be told that the format, not the file, is the problem.
 */
export function sniffImageFormat(bytes: Uint8Array): SniffResult {
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return { kind: 'supported', format: 'png' };
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { kind: 'supported', format: 'jpeg' };
  const head6 = ascii(bytes, 0, 6);
  if (head6 === 'GIF87a' || head6 === 'GIF89a') return { kind: 'supported', format: 'gif' };
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') return { kind: 'supported', format: 'webp' };
  const brands = ftypBrands(bytes);
  if (brands !== undefined) {
    if (brands.includes('avif') || brands.includes('avis')) return { kind: 'supported', format: 'avif' };
    if (brands.some((b) => ['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1'].includes(b)))
      return { kind: 'unsupported', name: 'HEIC' };
    if (brands.includes('jp2 ') || brands.includes('jpx ')) return { kind: 'unsupported', name: 'JPEG 2000' };
    if (brands.includes('jxl ')) return { kind: 'unsupported', name: 'JPEG XL' };
    return { kind: 'unknown' };
  }
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a]))
    return { kind: 'unsupported', name: 'TIFF' };
  if (startsWith(bytes, [0x42, 0x4d])) return { kind: 'unsupported', name: 'BMP' };
  if (startsWith(bytes, [0xff, 0x0a]) || startsWith(bytes, [0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20]))
    return { kind: 'unsupported', name: 'JPEG XL' };
  if (startsWith(bytes, [0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20])) return { kind: 'unsupported', name: 'JPEG 2000' };
  if (ascii(bytes, 0, 4) === '8BPS') return { kind: 'unsupported', name: 'Photoshop' };
  if (ascii(bytes, 0, 5) === '%PDF-') return { kind: 'unsupported', name: 'PDF' };
  if (startsWith(bytes, [0, 0, 1, 0])) return { kind: 'unsupported', name: 'ICO' };
  const head = Buffer.from(bytes.subarray(0, 1024))
    .toString('latin1')
    .replace(/^\uFEFF|^\xEF\xBB\xBF/, '')
    .trimStart();
  if (head.startsWith('<') && /<svg[\s>]/i.test(head)) return { kind: 'unsupported', name: 'SVG' };
  return { kind: 'unknown' };
}
