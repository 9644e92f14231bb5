import type { ModelFolder } from '../model/model-folder.js';
import { parseClipImageProcessorConfig, type RgbPicture } from './components/clip-image-processor.js';
import type { FloatType, ModelTiming } from './components/io.js';
import { SafetyCheckerComponent } from './components/safety-checker.js';
import type { ModelSession } from './model-session.js';

/** A loaded safety checker: one verdict per picture. */
export interface SafetyChecker {
  /** `safety_checker/model.onnx` of the model folder. */
  readonly modelFile: string;
  /** Element type of its inputs (`float16` for fp16 exports). */
  readonly floatType: FloatType;
  /** Time spent in the graph so far. */
  readonly timing: Readonly<ModelTiming>;
  /**
   * True when the picture has NSFW concepts (diffusers' `has_nsfw_concepts` for it), computed exactly as
   * `OnnxStableDiffusionPipeline` does for each picture it returns.
   */
  check(picture: RgbPicture): Promise<boolean>;
  /** Frees the graph. */
  release(): Promise<void>;
}

/**
 * Loads the model folder's safety checker, when it has one (`safety_checker/model.onnx` and
 * `feature_extractor/preprocessor_config.json`); `undefined` otherwise. The graph is loaded through
 * `loadSession` (the runtime's session factory), its inputs and outputs are checked against the preprocessing
 * config, and a bad config or graph is a UserError naming the file.
 */
export async function loadSafetyChecker(
  folder: Pick<ModelFolder, 'safetyChecker'>,
  loadSession: (path: string) => Promise<ModelSession>,
): Promise<SafetyChecker | undefined> {
  const files = folder.safetyChecker;
  if (!files) return undefined;
  const processor = parseClipImageProcessorConfig(files.preprocessorConfig, files.preprocessorConfigFile);
  const session = await loadSession(files.modelFile);
  let component: SafetyCheckerComponent;
  try {
    component = new SafetyCheckerComponent(session, processor);
  } catch (error) {
    await session.release();
    throw error;
  }
  const timing: ModelTiming = { modelMs: 0, modelCalls: 0 };
  return {
    modelFile: files.modelFile,
    floatType: component.floatType,
    timing,
    check: (picture) => component.check(picture, timing),
    release: () => session.release(),
  };
}
