import { UserError } from '../errors.js';
import type { OrtSessionOptions } from './onnx-session.js';

/**
 * True for a failure of the execution provider itself (CUDA libraries, driver, device), which the session
 * factory answers by falling back to the CPU or by its own CUDA message.
 */
export function isProviderFailure(error: unknown): boolean {
  return /ExecutionProvider|provider|backend not found/i.test(messageOf(error));
}

/**
 * Says what is actually wrong when onnxruntime refuses to create a session: an option it rejects (named
 * with the values that were passed), a model file it cannot parse or that has no graph, a missing file,
 * an optimised-graph path it cannot write, or memory. Every message names the model file.
 */
export function describeSessionFailure(path: string, options: OrtSessionOptions, error: unknown): UserError {
  const message = messageOf(error);
  const detail = message.split('\n')[0]!.slice(0, 300);
  const cause = { cause: error };

  const load = /^Load model from .*? failed:\s*([\s\S]*)$/.exec(message);
  if (load) {
    const reason = load[1]!;
    if (/File doesn't exist|No such file/i.test(reason)) {
      return new UserError('model.fileMissing', `Model file ${path} is missing or cannot be opened: ${detail}.`, cause);
    }
    if (/Protobuf parsing failed/i.test(reason)) {
      return new UserError(
        'model.unreadable',
        `${path} could not be loaded as an ONNX model: it is not a valid ONNX protobuf. The file may be truncated or not an ONNX graph; download the model folder again.`,
        cause,
      );
    }
    if (/does not have a graph/i.test(reason)) {
      return new UserError(
        'model.unreadable',
        `${path} could not be loaded as an ONNX model: it holds no graph (an empty or unrelated file). Download the model folder again.`,
        cause,
      );
    }
    return new UserError(
      'model.unsupported',
      `onnxruntime cannot load ${path}: ${lastLine(reason)}. The graph may need a newer onnxruntime (opset or IR version) or an operator it does not have.`,
      cause,
    );
  }
  if (/is invalid|is not supported|must be one of|Invalid argument|sessionOptions/i.test(message)) {
    return new UserError(
      'runtime.badSessionOption',
      `onnxruntime refused the session options for ${path}: ${detail}. Options passed: ${describeOptions(options)}. ` +
        'Check `runtime.intraOpThreads` and `runtime.graphOptimizationLevel` in the configuration.',
      cause,
    );
  }
  if (options.optimizedModelFilePath && message.includes(options.optimizedModelFilePath)) {
    return new UserError(
      'runtime.cacheUnwritable',
      `onnxruntime could not write the optimised graph of ${path} to ${options.optimizedModelFilePath}: ${detail}. ` +
        'Make the data folder writable, or turn the cache off with `runtime.cacheOptimizedModels: false`.',
      cause,
    );
  }
  if (/bad_alloc|out of memory|Failed to allocate/i.test(message)) {
    return new UserError(
      'runtime.outOfMemory',
      `Not enough memory to load ${path} (${detail}). Close other programs, use a smaller (e.g. fp16) model, or lower \`runtime.intraOpThreads\`.`,
      cause,
    );
  }
  return new UserError(
    'runtime.sessionFailed',
    `onnxruntime could not create a session for ${path}: ${detail}. Options passed: ${describeOptions(options)}.`,
    cause,
  );
}

function describeOptions(options: OrtSessionOptions): string {
  const providers = options.executionProviders.map((provider) => (typeof provider === 'string' ? provider : provider.name)).join(', ');
  const parts = [
    `executionProviders [${providers}]`,
    `intraOpThreads ${options.intraOpThreads}`,
    `graphOptimizationLevel ${JSON.stringify(options.graphOptimizationLevel)}`,
  ];
  if (options.logSeverityLevel !== undefined) parts.push(`logSeverityLevel ${options.logSeverityLevel}`);
  if (options.configEntries) parts.push(`config entries ${JSON.stringify(options.configEntries)}`);
  return parts.join(', ');
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** onnxruntime prefixes its messages with a source location; the last line says what happened. */
function lastLine(text: string): string {
  const lines = text.trim().split('\n');
  return lines[lines.length - 1]!.replace(/^.*?\)\s+(?=[A-Z])/, '').slice(0, 300);
}
