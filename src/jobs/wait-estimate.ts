/** What a job asks of the pipeline, in step-pixels: denoising steps × pixels × images. */
export function jobWork(job: { readonly steps: number; readonly width: number; readonly height: number; readonly count: number }): number {
  return job.steps * job.width * job.height * job.count;
}

/** The batch on the pipeline now: a key that changes with the batch, and its work. */
export interface RunningWork {
  readonly key: string;
  readonly work: number;
}

/**
 * Estimates how long waiting jobs will wait, from the pace of the pipeline so far: a moving average of
 * pipeline milliseconds per step-pixel over the batches that finished. Rough on purpose — batching, model
 * warm-up and other load on the machine all shift it — so it is shown as "about".
 */
export class WaitEstimator {
  private msPerWork: number | undefined;
  /** When each running batch (by key) was first seen. */
  private runningSince = new Map<string, number>();

  /** Weight of the newest batch in the moving average. */
  constructor(private readonly newestWeight = 0.3) {}

  /** Learns from a finished batch: its work and the pipeline time it took. */
  observeBatch(work: number, pipelineMs: number): void {
    if (!(work > 0) || !(pipelineMs >= 0)) return;
    const rate = pipelineMs / work;
    this.msPerWork = this.msPerWork === undefined ? rate : (1 - this.newestWeight) * this.msPerWork + this.newestWeight * rate;
  }

  /**
   * Expected waits in ms of the waiting jobs, in queue order. With one pipeline (`slots` 1): what is left of
   * the running batch plus the work of every job ahead. With several pipelines (local devices, remote
   * workers), each waiting job goes to the pipeline that frees up first. Undefined until a batch has been
   * measured.
   */
  waits(
    running: RunningWork | readonly RunningWork[] | undefined,
    queuedWork: readonly number[],
    now: number,
    slots = 1,
  ): (number | undefined)[] {
    const rate = this.msPerWork;
    const batches: readonly RunningWork[] = running === undefined ? [] : 'key' in running ? [running] : running;
    const since = new Map<string, number>();
    for (const batch of batches) since.set(batch.key, this.runningSince.get(batch.key) ?? now);
    this.runningSince = since;
    if (rate === undefined) return queuedWork.map(() => undefined);
    // Time until each pipeline is free: running batches first, idle pipelines at 0.
    const freeIn = batches.map((batch) => Math.max(0, batch.work * rate - (now - since.get(batch.key)!)));
    while (freeIn.length < Math.max(1, slots)) freeIn.push(0);
    freeIn.sort((a, b) => a - b);
    if (freeIn.length > Math.max(1, slots)) freeIn.length = Math.max(1, slots);
    return queuedWork.map((work) => {
      const wait = freeIn[0]!;
      freeIn[0] = wait + work * rate;
      freeIn.sort((a, b) => a - b);
      return wait;
    });
  }
}
