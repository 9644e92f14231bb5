/**
 * Names of latentcord's own Redis keys (BullMQ keeps its keys under `<prefix>:<queue>:…`). Every key that
 * holds data has a time to live, so nothing stays behind when a bot or worker disappears.
 */
export class ScaleKeys {
  constructor(readonly prefix: string) {}

  /** Sorted set: worker name → when its heartbeat runs out (ms since the epoch). */
  get workers(): string {
    return `${this.prefix}:lc:workers`;
  }

  /** A worker's last heartbeat (JSON), expiring with it. */
  worker(name: string): string {
    return `${this.prefix}:lc:worker:${name}`;
  }

  /** Pub/sub channel: ids of batches whose jobs were all cancelled. */
  get cancelChannel(): string {
    return `${this.prefix}:lc:cancel`;
  }

  /** Set while a batch is cancelled, for a worker that missed the message. */
  cancelled(batchId: string): string {
    return `${this.prefix}:lc:cancelled:${batchId}`;
  }

  /** A remix source picture of a batch: raw float32 pixels. */
  input(batchId: string, job: number): string {
    return `${this.prefix}:lc:blob:${batchId}:in:${job}`;
  }

  /** A finished PNG of a batch. */
  output(batchId: string, job: number, image: number): string {
    return `${this.prefix}:lc:blob:${batchId}:out:${job}:${image}`;
  }
}
