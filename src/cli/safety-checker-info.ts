import { isUserError } from '../errors.js';
import { readModelFolder } from '../model/model-folder.js';
import { loadSafetyChecker } from '../pipeline/safety-checker.js';
import { SessionFactory, type RuntimeOptions } from '../runtime/session-factory.js';

/** What `info` says about a model folder's safety checker. */
export type SafetyCheckerReport =
  | { readonly present: false; readonly reason: string }
  | { readonly present: true; readonly usable: true; readonly modelFile: string; readonly floatType: string }
  | { readonly present: true; readonly usable: false; readonly modelFile: string; readonly problem: string };

/**
 * Finds the folder's safety checker and loads it (its inputs and outputs and its preprocessing config are
 * checked as the pipeline would), so that `info` says whether pictures can be checked and, if not, why.
 */
export async function safetyCheckerReport(modelDir: string, runtime: RuntimeOptions): Promise<SafetyCheckerReport> {
  const folder = readModelFolder(modelDir);
  if (!folder.safetyChecker) {
    return {
      present: false,
      reason: folder.safetyCheckerProblem ?? 'no safety_checker/model.onnx with feature_extractor/preprocessor_config.json',
    };
  }
  const modelFile = folder.safetyChecker.modelFile;
  try {
    const checker = await loadSafetyChecker(folder, (path) => new SessionFactory(runtime).load(path));
    await checker?.release();
    return { present: true, usable: true, modelFile, floatType: checker?.floatType ?? 'unknown' };
  } catch (error) {
    if (!isUserError(error)) throw error;
    return { present: true, usable: false, modelFile, problem: error.message };
  }
}

/** One line for `info`'s text output. */
export function describeSafetyChecker(report: SafetyCheckerReport): string {
  if (!report.present) return `none: pictures are not checked (${report.reason})`;
  if (!report.usable) return `present but not usable: ${report.problem}`;
  return `yes (${report.modelFile}, ${report.floatType === 'float16' ? 'fp16' : 'fp32'}): pictures can be checked`;
}
