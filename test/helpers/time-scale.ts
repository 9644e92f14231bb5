/**
 * One factor for every wait budget of the end-to-end tests (the fake Discord's waits, the bot's log lines,
 * polling the bot's SQLite file, child-process exits). Budgets are written for a quiet machine; the factor
 * stretches all of them at once on a slow or shared one. Budgets only bound how long a test waits for a state
 * that should come: a passing test never sleeps them out, so a larger factor costs nothing but a later failure.
 *
 * `LATENTCORD_TEST_TIME_SCALE` (a positive number) sets it; otherwise it is {@link ciTimeScale} when `CI` is set
 * (CI machines are shared and slow) and 1 elsewhere.
 */

/** The factor when `CI` is set and `LATENTCORD_TEST_TIME_SCALE` is not. */
export const ciTimeScale = 3;

/** Reads the factor from an environment (see the module comment); a malformed value is an error, not ignored. */
export function readTimeScale(env: Readonly<Record<string, string | undefined>>): number {
  const explicit = env['LATENTCORD_TEST_TIME_SCALE'];
  if (explicit !== undefined && explicit.trim() !== '') {
    const value = Number(explicit);
    if (!Number.isFinite(value) || value <= 0) {
      throw new Error(`LATENTCORD_TEST_TIME_SCALE must be a positive number (e.g. 2 or 0.5), got ${JSON.stringify(explicit)}`);
    }
    return value;
  }
  const ci = env['CI']?.trim().toLowerCase();
  return ci !== undefined && ci !== '' && ci !== 'false' && ci !== '0' ? ciTimeScale : 1;
}

/** The factor of this test process. */
export const timeScale: number = readTimeScale(process.env);

/** A wait budget written for a quiet machine, stretched by {@link timeScale}. */
export function scaled(ms: number): number {
  return Math.round(ms * timeScale);
}

/** Options of {@link waitFor}. */
export interface PollOptions {
  /** Budget on a quiet machine, stretched by {@link timeScale} (default 15 s). */
  readonly timeoutMs?: number;
  /** Time between two checks (default 25 ms). */
  readonly intervalMs?: number;
}

/**
 * Polls `check` (which may be async) until it returns a value other than `undefined`, `null` or `false`, and
 * resolves with that value: for state that announces nothing (a row in the bot's SQLite file, a process in
 * /proc, an HTTP endpoint). Rejects
 * naming `what` (a function is asked then, so it can describe the state it ended in) once the stretched
 * budget is spent.
 */
export async function waitFor<T>(
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  what: string | (() => string),
  options: PollOptions = {},
): Promise<T> {
  const budget = scaled(options.timeoutMs ?? 15_000);
  const deadline = Date.now() + budget;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== null && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${budget} ms waiting until ${typeof what === 'string' ? what : what()}`);
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 25));
  }
}
