import { renderProgressBar, type ProgressStream } from '../hub/index.js';

export type { ProgressStream } from '../hub/index.js';

/**
 * Shows denoising progress: a bar redrawn in place on a terminal, one plain line per step otherwise (logs,
 * pipes, CI), so the output stays readable wherever it goes. Same look as the model download's bar.
 */
export class StepProgressBar {
  private lastLine = '';

  constructor(
    private readonly stream: ProgressStream,
    private readonly label: string,
  ) {}

  /** Reports that `done` of `total` steps are finished after `elapsedMs`. */
  update(done: number, total: number, elapsedMs: number): void {
    const seconds = (elapsedMs / 1000).toFixed(1);
    if (!this.stream.isTTY) {
      this.stream.write(`${this.label}: ${done}/${total} steps (${seconds} s)\n`);
      return;
    }
    const rate = done > 0 ? ` ${(elapsedMs / done / 1000).toFixed(2)} s/step` : '';
    const width = Math.max(12, Math.min(42, (this.stream.columns ?? 80) - this.label.length - 40));
    const line = `${this.label} ${renderProgressBar(done, total, width)} ${done}/${total} steps ${seconds} s${rate}`;
    this.stream.write(`\r${line}${' '.repeat(Math.max(0, this.lastLine.length - line.length))}`);
    this.lastLine = line;
  }

  /** Ends the bar's line on a terminal. */
  finish(): void {
    if (this.stream.isTTY && this.lastLine) this.stream.write('\n');
    this.lastLine = '';
  }
}
