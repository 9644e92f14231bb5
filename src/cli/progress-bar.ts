/** Something a progress display writes to: a terminal or a plain stream. */
export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

/**
 * Shows step progress: a bar redrawn in place on a terminal, one plain line per update otherwise (logs,
 * pipes, CI), so output stays readable wherever it goes.
 */
export class StepProgressBar {
  private lastLine = '';

  constructor(private readonly stream: ProgressStream, private readonly label: string) {}

  /** Reports that `done` of `total` units are finished after `elapsedMs`. */
  update(done: number, total: number, elapsedMs: number, unit = 'steps'): void {
    const seconds = (elapsedMs / 1000).toFixed(1);
    const rate = done > 0 ? ` ${(elapsedMs / done / 1000).toFixed(2)} s/${unit.replace(/s$/, '')}` : '';
    if (!this.stream.isTTY) {
      this.stream.write(`${this.label}: ${done}/${total} ${unit} (${seconds} s)\n`);
      return;
    }
    const width = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - this.label.length - 40));
    const filled = total > 0 ? Math.round((done / total) * width) : 0;
    const line = `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total} ${unit} ${seconds} s${rate}`;
    this.stream.write(`\r${line}${' '.repeat(Math.max(0, this.lastLine.length - line.length))}`);
    this.lastLine = line;
  }

  /** Ends the bar's line on a terminal. */
  finish(): void {
    if (this.stream.isTTY && this.lastLine) this.stream.write('\n');
    this.lastLine = '';
  }
}
