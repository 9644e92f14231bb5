import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../src/logging/logger.js';
import { tinyModelDir } from '../helpers/fixtures.js';

/** A parsed pino line. */
export type LogLine = Record<string, unknown> & { msg: string; level: number };

/** A logger whose JSON lines are kept in memory (and printed with LATENTCORD_TEST_LOGS=1). */
export function memoryLogger(tag: string): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const text of chunk.toString('utf8').split('\n')) {
        if (text.trim() === '') continue;
        if (process.env['LATENTCORD_TEST_LOGS']) process.stderr.write(`[${tag}] ${text}\n`);
        try {
          lines.push(JSON.parse(text) as LogLine);
        } catch {
          // not JSON
        }
      }
      callback();
    },
  });
  return { logger: createLogger({ level: 'debug', destination, pretty: false }), lines };
}

/** Resolves once `condition` holds, checking every 50 ms; fails after `timeoutMs` with `what`. */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * A copy of the tiny model whose UNet config differs by one harmless key: another model as far as routing
 * goes (another manifest hash), with the same folder name unless `name` is given.
 */
export function otherModelCopy(name = 'tiny-sd'): { dir: string; remove(): void } {
  const root = mkdtempSync(join(tmpdir(), 'latentcord-other-model-'));
  const dir = join(root, name);
  cpSync(tinyModelDir, dir, { recursive: true });
  writeFileSync(join(dir, 'scheduler', 'note.txt'), 'another revision of the model\n');
  return { dir, remove: () => rmSync(root, { recursive: true, force: true }) };
}
