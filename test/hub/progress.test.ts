import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DownloadProgress } from '../../src/hub/download-model.js';
import { createProgressReporter, formatDuration, renderProgressBar, renderProgressLine } from '../../src/hub/progress.js';

function progress(
  file: string,
  fileBytes: number,
  fileTotal: number,
  bytes: number,
  total: number,
  stage: DownloadProgress['stage'],
): DownloadProgress {
  return { file, fileBytes, fileTotal, bytes, total, stage };
}

/** A writable that remembers what was written. */
function sink(isTTY: boolean, columns?: number): { text: string; isTTY: boolean; columns?: number; write(text: string): void } {
  return {
    text: '',
    isTTY,
    columns,
    write(text: string) {
      this.text += text;
    },
  };
}

describe('progress rendering', () => {
  for (const [done, total, width, bar] of [
    [0, 100, 12, '[..........]'],
    [50, 100, 12, '[#####.....]'],
    [99, 100, 12, '[#########.]'],
    [100, 100, 12, '[##########]'],
    [150, 100, 6, '[####]'],
    [0, 0, 6, '[####]'],
  ] as const) {
    it(`draws ${done}/${total} as ${bar}`, () => assert.equal(renderProgressBar(done, total, width), bar));
  }

  for (const [seconds, text] of [
    [0.4, '0s'],
    [59, '59s'],
    [187, '3m07s'],
    [3720, '1h02m'],
  ] as const) {
    it(`formats ${seconds} s as ${text}`, () => assert.equal(formatDuration(seconds), text));
  }

  it('writes a status line with the total share, speed, time left and the file, cut to the width', () => {
    const line = renderProgressLine(progress('unet/model.onnx', 512, 1024, 1536, 4096, 'data'), { bytesPerSecond: 1024 });
    assert.equal(line, '37% of 4.00 KiB 1.00 KiB/s ETA 3s | unet/model.onnx [##########..........] 50% 512 B/1.00 KiB');
    assert.equal(renderProgressLine(progress('unet/model.onnx', 1, 2, 1, 2, 'data'), { columns: 20 }).length, 20);
  });

  it('prints plain lines when not on a TTY', () => {
    const out = sink(false);
    const reporter = createProgressReporter(out, { plainStepPercent: 50 });
    reporter.onProgress(progress('model_index.json', 10, 10, 10, 1010, 'skipped'));
    reporter.onProgress(progress('unet/model.onnx', 0, 1000, 10, 1010, 'start'));
    for (const bytes of [100, 400, 500, 700, 1000]) reporter.onProgress(progress('unet/model.onnx', bytes, 1000, 10 + bytes, 1010, 'data'));
    reporter.onProgress(progress('unet/model.onnx', 1000, 1000, 1010, 1010, 'done'));
    reporter.finish();
    assert.equal(
      out.text,
      'present model_index.json (10 B, verified)\n' +
        'fetching unet/model.onnx (1000 B)\n' +
        'unet/model.onnx 50% (500 B/1000 B)\n' +
        'fetched unet/model.onnx | total 100% of 1010 B\n',
    );
  });

  it('redraws one line in place on a TTY, no more often than asked, and clears it at the end', () => {
    const out = sink(true, 200);
    let clock = 0;
    const reporter = createProgressReporter(out, { now: () => clock, redrawMs: 100 });
    reporter.onProgress(progress('unet/model.onnx', 0, 1000, 0, 1000, 'start'));
    clock = 50;
    reporter.onProgress(progress('unet/model.onnx', 100, 1000, 100, 1000, 'data'));
    clock = 2000;
    reporter.onProgress(progress('unet/model.onnx', 600, 1000, 600, 1000, 'data'));
    reporter.onProgress(progress('unet/model.onnx', 1000, 1000, 1000, 1000, 'done'));
    reporter.finish();
    const draws = out.text.split('\r\x1b[2K').filter((part) => part !== '');
    assert.deepEqual(draws, [
      '0% of 1000 B | unet/model.onnx [....................] 0% 0 B/1000 B',
      '60% of 1000 B 300 B/s ETA 1s | unet/model.onnx [############........] 60% 600 B/1000 B',
      'fetched unet/model.onnx (1000 B)\n',
    ]);
  });
});
