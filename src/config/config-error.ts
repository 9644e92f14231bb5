import { UserError } from '../errors.js';

/** One thing wrong with the configuration. */
export interface ConfigProblem {
  /** Where the bad value came from: a file path as given, or `environment variable NAME`. */
  readonly source: string;
  /** Dotted key path, e.g. `queue.maxLength`; empty for the file as a whole. */
  readonly path: string;
  /** The full line, e.g. "config/local.json: `queue.maxLength` must be an integer from 1 to 1000, got `-1`". */
  readonly message: string;
}

/**
 * The configuration cannot be used. The message lists every problem found, one per line, each naming its
 * source, the key path, what was expected and what was found. It is an operator's mistake, hence a
 * {@link UserError} (identifier `config.invalid`): show the message, not a stack trace.
 */
export class ConfigError extends UserError {
  /** The problems, in the order found. */
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const lines = problems.map((problem) => problem.message);
    super(
      'config.invalid',
      lines.length === 1 ? lines[0]! : `The configuration has ${lines.length} problems:\n${lines.map((line) => `- ${line}`).join('\n')}`,
    );
    this.name = 'ConfigError';
    this.problems = Object.freeze([...problems]);
  }
}
