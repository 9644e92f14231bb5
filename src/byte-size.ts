/**
 * How every message, log line and progress display of latentcord writes a number of bytes: one wording for the
 * bot's replies, the command line and the downloader, so a limit reads the same wherever it is quoted.
 */

const units = ['KiB', 'MiB', 'GiB', 'TiB', 'PiB'] as const;

/** ⌈n / d⌉ for non-negative integers, exact where `n / d` in floating point could round across an integer. */
function ceilDiv(n: number, d: number): number {
  let q = Math.floor(n / d);
  if (q * d > n) q -= 1;
  if (q * d < n) q += 1;
  return q;
}

/**
 * A size for people: `532 B`, `1.50 KiB`, `44.0 KiB`, `3.47 MiB`, `909 TiB` — binary units, three significant
 * digits, **rounded up**, so a size never reads smaller than it is (a picture one byte over a 4 KiB limit reads
 * `4.01 KiB`, not `4.00 KiB`). Fractions of a byte count as a whole byte.
 */
export function byteSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) throw new RangeError(`Expected a byte count, got ${bytes}`);
  const whole = Math.ceil(bytes);
  if (whole < 1024) return `${whole} B`;
  let unit = 0;
  while (unit < units.length - 1 && whole >= 1024 ** (unit + 2)) unit++;
  for (;;) {
    const scale = 1024 ** (unit + 1);
    for (const digits of [2, 1, 0]) {
      const scaled = ceilDiv(whole * 10 ** digits, scale);
      if (scaled < 1000) return `${(scaled / 10 ** digits).toFixed(digits)} ${units[unit]}`;
      // 1000–1023 of a unit keep four digits, as 1 of the next would read too large.
      if (digits === 0 && (scaled < 1024 || unit === units.length - 1)) return `${scaled} ${units[unit]}`;
    }
    unit++;
  }
}
