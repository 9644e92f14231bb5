import type { Config } from '../config/index.js';
import { UserError } from '../errors.js';
import { readModelFolder } from '../model/model-folder.js';
import { defaultMaxPromptTokens, tokenizePrompt } from '../pipeline/prompt/index.js';
import { ClipTokenizer } from '../tokenizer/index.js';
import { emphasisOption, parseCommandArgs, stringOption } from './args.js';
import type { CliIo } from './generate.js';
import { resolveModelDir } from './runtime-config.js';

/** Usage line of `tokenize`. */
export const tokenizeUsage =
  'latentcord tokenize "<prompt>" [--model DIR] [--chunks [--emphasis original|no-norm|off]]   # CLIP ids as JSON (--chunks: as latentcord reads the prompt)';

/**
 * `tokenize`: prints how a prompt becomes text-encoder input. Plain: the 77 ids of diffusers' tokenizer call
 * (the literal text, truncated to one window). With `--chunks`: every 77-token chunk with its multipliers and
 * A1111's token count, exactly as AUTOMATIC1111's `tokenize_line` forms them — what `imagine` and the bot encode.
 */
export async function runTokenizeCommand(argv: readonly string[], config: Config, io: CliIo): Promise<void> {
  const { positionals, values } = parseCommandArgs(
    argv,
    { model: { type: 'string' }, chunks: { type: 'boolean' }, emphasis: { type: 'string' } },
    tokenizeUsage,
  );
  if (positionals.length !== 1) throw new UserError('cli.usage', `Expected one prompt in quotes.\n\nUsage: ${tokenizeUsage}`);
  if (!values['chunks'] && values['emphasis'] !== undefined) {
    throw new UserError('cli.usage', `\`--emphasis\` applies to \`--chunks\`.\n\nUsage: ${tokenizeUsage}`);
  }
  const folder = readModelFolder(resolveModelDir(config, stringOption(values, 'model'), io.cwd));
  const tokenizer = ClipTokenizer.fromFolder(folder.tokenizerDir);
  const prompt = positionals[0]!;

  if (!values['chunks']) {
    const tokens = tokenizer.encode(prompt);
    io.stdout.write(`${JSON.stringify(Array.from(tokens.inputIds))}\n`);
    if (tokens.truncated) {
      io.stderr.write(
        `note: ${tokens.tokenCount} tokens; one CLIP window holds ${tokenizer.modelMaxLength - 2} (not in it: "${tokens.droppedText}"). ` +
          'latentcord reads longer prompts in chunks: see --chunks.\n',
      );
    }
    return;
  }

  const read = tokenizePrompt(prompt, tokenizer, { emphasis: emphasisOption(values) ?? 'original', maxTokens: Number.MAX_SAFE_INTEGER });
  const chunks = read.chunks.map((chunk) => ({ ids: chunk.ids, multipliers: chunk.multipliers }));
  io.stdout.write(`${JSON.stringify({ tokenCount: read.tokenCount, chunks })}\n`);
  const limited = tokenizePrompt(prompt, tokenizer, { emphasis: read.emphasis, maxTokens: defaultMaxPromptTokens });
  if (limited.report.truncated) {
    io.stderr.write(
      `note: ${read.tokenCount} tokens; latentcord reads ${defaultMaxPromptTokens} by default (${limited.chunks.length} chunks) ` +
        `and ignores: "${limited.report.droppedText}"\n`,
    );
  }
}
