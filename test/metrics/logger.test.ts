import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { UserError } from '../../src/errors.js';
import { createLogger, shouldPrettyPrint } from '../../src/logging/logger.js';
import { RecordingObserver, runnerHarness } from './job-runner-harness.js';

const token = 'MTA5ODc2NTQzMjEwOTg3NjU0.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB';
const loggerModule = new URL('../../src/logging/logger.js', import.meta.url).href;

/** A logger writing into a string. */
function capture(pretty: boolean, secrets: (string | null)[] = [token]) {
  let text = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString('utf8');
      done();
    },
  });
  const logger = createLogger({ level: 'trace', secrets, destination, pretty });
  return { logger, text: () => text };
}

/** Logs the token every way it could slip in. */
function logEverywhere(logger: ReturnType<typeof createLogger>): void {
  const httpError = Object.assign(new Error(`401 Unauthorized for Bot ${token}`), {
    code: 'E401',
    url: `https://discord.test/api?token=${token}`,
  });
  logger.error({ err: httpError }, 'discord client error');
  logger.error({ err: new UserError('job.x', 'outer', { cause: new Error(`inner ${token}`) }) }, 'with a cause');
  logger.warn(`a message with ${token} inside`);
  logger.error(new TypeError(`thrown ${token}`));
  logger.info({ token, headers: { authorization: `Bot ${token}` }, config: { discord: { token } } }, 'keys');
  logger.info({ nested: { list: [`a ${token}`], deeper: { error: { message: token } } } }, 'nested');
  logger.child({ session: `s-${token}` }).info('child binding');
  logger.info({ prompt: `"quoted" \\ ${token}` }, 'escaped');
}

describe('logger', () => {
  for (const pretty of [false, true]) {
    it(`never writes the token, wherever it hides (${pretty ? 'pretty' : 'JSON'} output)`, () => {
      const { logger, text } = capture(pretty);
      logEverywhere(logger);
      logger.flush();
      const output = text();
      assert.ok(output.split('\n').filter(Boolean).length >= 8, output);
      assert.equal(output.includes(token), false, output);
      assert.ok(output.includes('[redacted]'));
      assert.match(output, /401 Unauthorized for Bot \[redacted\]/);
      assert.match(output, /inner \[redacted\]/, 'the cause is logged, scrubbed');
    });
  }

  it('scrubs secrets that JSON escapes, and ignores secrets too short to be real', () => {
    const secret = 'pa"ss\\word-with-quote';
    const { logger, text } = capture(false, [secret, 'short', null]);
    logger.info({ value: `x ${secret} y`, other: 'short words stay' }, `message ${secret}`);
    const line = JSON.parse(text());
    assert.equal(line.value, 'x [redacted] y');
    assert.equal(line.msg, 'message [redacted]');
    assert.equal(line.other, 'short words stay');
  });

  it('a failing job whose error message carries the token logs no token', async () => {
    const harness = runnerHarness({ secrets: [token] });
    try {
      harness.pipeline.script.push({ kind: 'fail', error: new Error(`request failed: Authorization: Bot ${token}`) });
      harness.submit(
        {},
        Object.assign(new RecordingObserver(), { failed: async () => Promise.reject(new Error(`webhook ${token} expired`)) }),
      );
      await harness.runner.idle();
      const all = harness.output.join('');
      assert.match(all, /job failed/);
      assert.match(all, /could not tell the requester/);
      assert.equal(all.includes(token), false);
      assert.match(all, /Authorization: Bot \[redacted\]/);
    } finally {
      harness.close();
    }
  });

  it('pretty output is human-readable text, JSON output one object per line', () => {
    const pretty = capture(true);
    pretty.logger.info({ job: 'j1', stages: { denoise: 40 } }, 'job finished');
    const text = pretty.text().replace(/\x1b\[[0-9;]*m/g, '');
    assert.match(text, /^\[\d\d:\d\d:\d\d\.\d{3}\] INFO: job finished\n/);
    assert.match(text, /job: "j1"/);
    assert.throws(() => JSON.parse(text));
    const json = capture(false);
    json.logger.info({ job: 'j1' }, 'job finished');
    const line = JSON.parse(json.text());
    assert.deepEqual([line.msg, line.job, line.level], ['job finished', 'j1', 30]);
  });

  it('logging.pretty: auto follows whether stdout is a terminal', () => {
    assert.equal(shouldPrettyPrint('auto', { isTTY: true }), true);
    assert.equal(shouldPrettyPrint('auto', { isTTY: false }), false);
    assert.equal(shouldPrettyPrint('auto', {}), false);
    assert.equal(shouldPrettyPrint(true, {}), true);
    assert.equal(shouldPrettyPrint(false, { isTTY: true }), false);
  });

  it('pretty output to stdout starts no worker thread and loses nothing at process.exit', () => {
    const script = `
      import { createLogger } from ${JSON.stringify(loggerModule)};
      import { threadId } from 'node:worker_threads';
      const logger = createLogger({ level: 'info', pretty: true, secrets: [${JSON.stringify(token)}] });
      for (let i = 0; i < 200; i++) logger.info({ i }, 'line ' + i);
      logger.warn('last ${token}');
      process.stderr.write(String(process.getActiveResourcesInfo().filter((r) => r === 'MessagePort' || r === 'Worker').length));
      process.exit(0);
    `;
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr, '0', 'no worker-thread transport');
    assert.match(result.stdout, /INFO: line 199\n/);
    assert.match(result.stdout, /WARN: last \[redacted\]\n$/);
    assert.equal(result.stdout.includes(token), false);
  });
});
