import type { DownloadProgress } from './download-model.js';
import { byteSize } from '../byte-size.js';

/** `[#####.....]` for `done` out of `total`, `width` characters wide brackets included. */
export function renderProgressBar(done: number, total: number, width = 24): string {
  const inner = Math.max(1, width - 2);
  const fraction = total > 0 ? Math.min(1, Math.max(0, done / total)) : 1;
  const filled = Math.floor(fraction * inner);
  return '[' + '#'.repeat(filled) + '.'.repeat(inner - filled) + ']';
}

/** `45s`, `3m07s`, `1h02m`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function percent(done: number, total: number): string {
  return `${total > 0 ? Math.floor((100 * done) / total) : 100}%`;
}

/**
 * One status line: the whole download's share, speed and time left (when `bytesPerSecond` is known),
 * then the current file's bar and sizes. Cut to `columns` characters, so the file sizes go first.
 */
export function renderProgressLine(progress: DownloadProgress, options: { columns?: number; bytesPerSecond?: number } = {}): string {
  const columns = options.columns ?? 100;
  let line = `${percent(progress.bytes, progress.total)} of ${byteSize(progress.total)}`;
  const rate = options.bytesPerSecond;
  if (rate !== undefined && rate > 0) {
    line += ` ${byteSize(rate)}/s ETA ${formatDuration((progress.total - progress.bytes) / rate)}`;
  }
  line +=
    ` | ${progress.file} ${renderProgressBar(progress.fileBytes, progress.fileTotal, 22)} ${percent(progress.fileBytes, progress.fileTotal)}` +
    ` ${byteSize(progress.fileBytes)}/${byteSize(progress.fileTotal)}`;
  return line.length > columns ? line.slice(0, Math.max(0, columns - 1)) + '…' : line;
}

/** Where a {@link createProgressReporter} writes: a TTY gets one redrawn line, anything else plain lines. */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean | undefined;
  columns?: number | undefined;
}

/** Options of {@link createProgressReporter}. */
export interface ProgressReporterOptions {
  /** Milliseconds clock; default `Date.now`. */
  now?: () => number;
  /** Least time between two redraws of the TTY line; default 100 ms. */
  redrawMs?: number;
  /** Plain mode prints a line each time a file passes another step of this many percent; default 25. */
  plainStepPercent?: number;
}

/** A download progress printer. */
export interface ProgressReporter {
  /** Pass as `downloadModel`'s `onProgress`. */
  onProgress(progress: DownloadProgress): void;
  /** Clears the live line (TTY); call once the download ended, whichever way. */
  finish(): void;
}

/**
 * Prints download progress. On a TTY: a line per finished file and one live line redrawn in place
 * (`\r` + erase line) at most every `redrawMs`. Elsewhere (logs, CI, pipes): plain lines when a file
 * starts, passes each `plainStepPercent`, ends, or is already present.
 */
export function createProgressReporter(stream: ProgressStream, options: ProgressReporterOptions = {}): ProgressReporter {
  const now = options.now ?? Date.now;
  const redrawMs = options.redrawMs ?? 100;
  const step = options.plainStepPercent ?? 25;
  const tty = stream.isTTY === true;
  let lastDraw = Number.NEGATIVE_INFINITY;
  let live = false;
  let speedStart: { time: number; bytes: number } | undefined;
  let lastStep = 0;

  const rate = (progress: DownloadProgress): number | undefined => {
    if (!speedStart) return undefined;
    const seconds = (now() - speedStart.time) / 1000;
    return seconds >= 1 ? (progress.bytes - speedStart.bytes) / seconds : undefined;
  };
  const clear = (): void => {
    if (live) stream.write('\r\x1b[2K');
    live = false;
  };

  const onTty = (progress: DownloadProgress): void => {
    if (progress.stage === 'skipped' || progress.stage === 'done') {
      clear();
      const verb = progress.stage === 'skipped' ? 'present' : 'fetched';
      stream.write(`${verb} ${progress.file} (${byteSize(progress.fileTotal)})\n`);
      return;
    }
    if (progress.stage === 'data' && now() - lastDraw < redrawMs) return;
    lastDraw = now();
    // A pseudo-terminal may report 0 columns; fall back to the classic width then.
    const columns = stream.columns !== undefined && stream.columns >= 20 ? stream.columns : 80;
    const line = renderProgressLine(progress, { columns: columns - 1, bytesPerSecond: rate(progress) });
    stream.write('\r\x1b[2K' + line);
    live = true;
  };

  const onPlain = (progress: DownloadProgress): void => {
    switch (progress.stage) {
      case 'skipped':
        stream.write(`present ${progress.file} (${byteSize(progress.fileTotal)}, verified)\n`);
        return;
      case 'start':
        lastStep = progress.fileTotal > 0 ? Math.floor((100 * progress.fileBytes) / progress.fileTotal / step) : 0;
        stream.write(`fetching ${progress.file} (${byteSize(progress.fileTotal)})\n`);
        return;
      case 'done':
        stream.write(`fetched ${progress.file} | total ${percent(progress.bytes, progress.total)} of ${byteSize(progress.total)}\n`);
        return;
      case 'data': {
        const reached = progress.fileTotal > 0 ? Math.floor((100 * progress.fileBytes) / progress.fileTotal / step) : 0;
        if (reached > lastStep && progress.fileBytes < progress.fileTotal) {
          lastStep = reached;
          stream.write(
            `${progress.file} ${percent(progress.fileBytes, progress.fileTotal)} (${byteSize(progress.fileBytes)}/${byteSize(progress.fileTotal)})\n`,
          );
        }
      }
    }
  };

  return {
    onProgress(progress) {
      if (progress.stage === 'start' && speedStart === undefined) speedStart = { time: now(), bytes: progress.bytes };
      if (tty) onTty(progress);
      else onPlain(progress);
    },
    finish() {
      clear();
    },
  };
}
