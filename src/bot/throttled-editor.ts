/**
 * Keeps one status message up to date without flooding Discord: edits are serialised, at most one every
 * `intervalMs`, and only the latest state is sent (intermediate ones are dropped). `final()` stops the
 * throttled edits, waits for the one in flight, and then runs the last word (result or error) in order.
 */
export class ThrottledEditor<T> {
  private inFlight: Promise<void> = Promise.resolve();
  private pending: T | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastSent = 0;
  private closed = false;

  constructor(
    private readonly send: (payload: T) => Promise<unknown>,
    private readonly intervalMs: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Shows `payload` as soon as the interval allows; a newer payload replaces a waiting one. */
  show(payload: T): void {
    if (this.closed) return;
    this.pending = payload;
    if (this.timer) return;
    const wait = Math.max(0, this.lastSent + this.intervalMs - Date.now());
    this.timer = setTimeout(() => this.flushPending(), wait);
  }

  /** Runs `last` after every earlier edit, and ignores `show()` from then on. */
  async final<R>(last: () => Promise<R>): Promise<R> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.pending = undefined;
    await this.inFlight;
    return last();
  }

  private flushPending(): void {
    this.timer = undefined;
    const payload = this.pending;
    this.pending = undefined;
    if (payload === undefined || this.closed) return;
    this.lastSent = Date.now();
    this.inFlight = this.inFlight
      .then(() => this.send(payload))
      .then(
        () => undefined,
        (error) => this.onError(error),
      );
  }
}
