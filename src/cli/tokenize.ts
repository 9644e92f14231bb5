import type { Config } from '../config/index.js';
import { UserError } from '../errors.js';
import { readModelFolder } from '../model/model-folder.js';
import { ClipTokenizer } from '../tokenizer/index.js';
import { parseCommandArgs, stringOption } from './args.js';
import type { CliIo } from './generate.js';
import { resolveModelDir } from './runtime-config.js';

/** Usage line of `tokenize`. */
export const tokenizeUsage = 'latentcord tokenize "<prompt>" [--model DIR]   # prints the 77 ids as a JSON array';

/** `tokenize`: prints the CLIP input ids of a prompt exactly as the text encoder receives them. */
export async function runTokenizeCommand(argv: readonly string[], config: Config, io: CliIo): Promise<void> {
  const { positionals, values } = parseCommandArgs(argv, { model: { type: 'string' } }, tokenizeUsage);
  if (positionals.length !== 1) throw new UserError('cli.usage', `Expected one prompt in quotes.\n\nUsage: ${tokenizeUsage}`);
  const folder = readModelFolder(resolveModelDir(config, stringOption(values, 'model'), io.cwd));
  const tokenizer = ClipTokenizer.fromFolder(folder.tokenizerDir);
  const tokens = tokenizer.encode(positionals[0]!);
  io.stdout.write(`${JSON.stringify(Array.from(tokens.inputIds))}\n`);
  if (tokens.truncated)
    io.stderr.write(`note: ${tokens.tokenCount} tokens; CLIP reads ${tokenizer.modelMaxLength - 2}. Ignored: "${tokens.droppedText}"\n`);
}
