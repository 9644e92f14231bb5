/** Discord's epoch (2015-01-01T00:00:00Z) in milliseconds, the origin of snowflake timestamps. */
export const DISCORD_EPOCH = 1420070400000n;

/**
 * Makes unique, increasing snowflakes the way Discord lays them out: 42 bits of milliseconds since
 * {@link DISCORD_EPOCH}, 5 bits worker, 5 bits process, 12 bits increment. Ids made "now" are 19 digits
 * long, which matters: discord.js only recognises 17–19 digit ids as major rate-limit parameters.
 */
export class SnowflakeGenerator {
  private lastMs = 0n;
  private increment = 0n;

  constructor(
    private readonly workerId = 1n,
    private readonly processId = 0n,
  ) {}

  /** A new snowflake for the given time (default: now), unique within this generator. */
  next(atMs: number = Date.now()): string {
    let ms = BigInt(Math.floor(atMs)) - DISCORD_EPOCH;
    if (ms < this.lastMs) ms = this.lastMs;
    if (ms === this.lastMs) {
      this.increment++;
      if (this.increment > 0xfffn) {
        ms++;
        this.increment = 0n;
      }
    } else {
      this.increment = 0n;
    }
    this.lastMs = ms;
    return ((ms << 22n) | (this.workerId << 17n) | (this.processId << 12n) | this.increment).toString();
  }
}

/** The creation time (ms since the Unix epoch) encoded in a snowflake. */
export function snowflakeTimestamp(id: string): number {
  return Number((BigInt(id) >> 22n) + DISCORD_EPOCH);
}

/** True when `value` looks like a snowflake (17 to 20 decimal digits). */
export function isSnowflake(value: unknown): value is string {
  return typeof value === 'string' && /^\d{17,20}$/.test(value);
}
