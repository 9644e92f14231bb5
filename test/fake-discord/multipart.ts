/** One file part of a multipart/form-data body. */
export interface MultipartFile {
  /** The form field name, e.g. `files[0]`. */
  field: string;
  filename: string;
  contentType: string;
  data: Buffer;
}

/** A parsed multipart/form-data body (RFC 7578): text fields and file parts. */
export interface MultipartBody {
  fields: Map<string, string>;
  files: MultipartFile[];
}

/** The boundary parameter of a `multipart/form-data` Content-Type, or null when it is not one. */
export function multipartBoundary(contentType: string | undefined): string | null {
  if (!contentType || !/^multipart\/form-data\b/i.test(contentType)) return null;
  const match = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  return match ? (match[1] ?? match[2] ?? '').trim() : null;
}

function parseDisposition(value: string): { name?: string; filename?: string } {
  const result: { name?: string; filename?: string } = {};
  const re = /;\s*(name|filename\*?)=(?:"((?:[^"\\]|\\.)*)"|([^;]*))/gi;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    const key = (m[1] ?? '').toLowerCase();
    const raw = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '').trim();
    if (key === 'name') result.name = decodeFormName(raw);
    else if (key === 'filename') result.filename ??= decodeFormName(raw);
    else if (key === 'filename*') {
      const star = /^[^']*'[^']*'(.*)$/.exec(raw);
      result.filename = decodeURIComponent(star ? (star[1] ?? '') : raw);
    }
  }
  return result;
}

/** Browsers and undici escape `"`, CR and LF in names as %22, %0D, %0A (HTML form encoding). */
function decodeFormName(value: string): string {
  return value.replace(/%22/g, '"').replace(/%0D/gi, '\r').replace(/%0A/gi, '\n');
}

/**
 * Parses a complete multipart/form-data body. Parts with a filename become files, others text fields.
 * Throws on a body that does not follow the format (missing boundary lines or part headers).
 */
export function parseMultipart(body: Buffer, boundary: string): MultipartBody {
  const fields = new Map<string, string>();
  const files: MultipartFile[] = [];
  const delimiter = Buffer.from(`--${boundary}`);
  let position = body.indexOf(delimiter);
  if (position < 0) throw new Error('multipart body without its boundary');
  for (;;) {
    position += delimiter.length;
    if (body[position] === 0x2d && body[position + 1] === 0x2d) break;
    if (body[position] === 0x0d && body[position + 1] === 0x0a) position += 2;
    const headerEnd = body.indexOf('\r\n\r\n', position);
    if (headerEnd < 0) throw new Error('multipart part without a header end');
    const headers = new Map<string, string>();
    for (const line of body.subarray(position, headerEnd).toString('utf8').split('\r\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    const contentStart = headerEnd + 4;
    const next = body.indexOf(Buffer.concat([Buffer.from('\r\n'), delimiter]), contentStart);
    if (next < 0) throw new Error('multipart part without a closing boundary');
    const content = body.subarray(contentStart, next);
    const disposition = parseDisposition(headers.get('content-disposition') ?? '');
    if (disposition.name === undefined) throw new Error('multipart part without a name');
    if (disposition.filename !== undefined) {
      files.push({
        field: disposition.name,
        filename: disposition.filename,
        contentType: headers.get('content-type') ?? 'application/octet-stream',
        data: Buffer.from(content),
      });
    } else {
      fields.set(disposition.name, content.toString('utf8'));
    }
    position = next + 2;
  }
  return { fields, files };
}
