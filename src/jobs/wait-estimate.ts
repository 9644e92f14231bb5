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
  private runningKey: string | undefined;
  private runningSince = 0;

  /** Weight of the newest batch in the moving average. */
  constructor(private readonly newestWeight = 0.3) {}

  /** Learns from a finished batch: its work and the pipeline time it took. */
  observeBatch(work: number, pipelineMs: number): void {
    if (!(work > 0) || !(pipelineMs >= 0)) return;
    const rate = pipelineMs / work;
    this.msPerWork = this.msPerWork === undefined ? rate : (1 - this.newestWeight) * this.msPerWork + this.newestWeight * rate;
  }

  /**
   * Expected waits in ms of the waiting jobs, in queue order: what is left of the running batch plus the work
   * of every job ahead. Undefined until a batch has been measured.
   */
  waits(running: RunningWork | undefined, queuedWork: readonly number[], now: number): (number | undefined)[] {
    const rate = this.msPerWork;
    if (rate === undefined) return queuedWork.map(() => undefined);
    if (running?.key !== this.runningKey) {
      this.runningKey = running?.key;
      this.runningSince = now;
    }
    let ahead = running ? Math.max(0, running.work * rate - (now - this.runningSince)) : 0;
    return queuedWork.map((work) => {
      const wait = ahead;
      ahead += work * rate;
      return wait;
    });
  }
}
