import { UserError } from '../../errors.js';
import type { ModelSession, TensorData } from '../model-session.js';
import { clipPixelValues, type ClipImageProcessorConfig, type RgbPicture } from './clip-image-processor.js';
import { expectRank, findInput, findOutput, floatTensor, floatTypeOf, timedRun, type FloatType, type ModelTiming } from './io.js';

/**
 * diffusers' ONNX safety checker (`StableDiffusionSafetyChecker.forward_onnx` exported as
 * `safety_checker/model.onnx`): `clip_input` `[batch, 3, 224, 224]` (the feature extractor's pixel values) and
 * `images` `[batch, height, width, 3]` in, `out_images` and `has_nsfw_concepts` `[batch]` (bool) out. fp16
 * exports take both inputs as float16.
 *
 * Used as `OnnxStableDiffusionPipeline` uses it: one picture per call (its batch-of-one loop), pixel values from
 * `CLIPImageProcessor` on the picture as PIL would hold it. Only the verdict is read; `out_images` (the
 * picture blacked out when flagged) is not asked for.
 */
export class SafetyCheckerComponent {
  private readonly clipInputName: string;
  private readonly clipInputType: FloatType;
  private readonly imagesName: string;
  private readonly imagesType: FloatType;
  private readonly verdictName: string;

  /** Checks the graph's declared inputs and outputs against the preprocessing; a mismatch is a UserError naming the file. */
  constructor(
    private readonly session: ModelSession,
    private readonly processor: ClipImageProcessorConfig,
  ) {
    const clipInput = findInput(session, ['clip_input'], 'CLIP pixel values [batch, 3, height, width]');
    this.clipInputType = floatTypeOf(session, clipInput, 'CLIP pixel values');
    expectRank(session, clipInput, 4, 'CLIP pixel values [batch, 3, height, width]');
    const side = processor.doCenterCrop ? processor.cropSize : undefined;
    const declared = clipInput.shape;
    if (side && declared && typeof declared[2] === 'number' && typeof declared[3] === 'number') {
      if (declared[2] !== side.height || declared[3] !== side.width) {
        throw new UserError(
          'model.unexpectedLayout',
          `${session.path}: \`clip_input\` is declared [${declared.join(', ')}], but feature_extractor/preprocessor_config.json crops to ${side.width}x${side.height}.`,
        );
      }
    }
    this.clipInputName = clipInput.name;
    const images = findInput(session, ['images'], 'the pictures [batch, height, width, 3]');
    this.imagesType = floatTypeOf(session, images, 'the pictures');
    expectRank(session, images, 4, 'the pictures [batch, height, width, 3]');
    this.imagesName = images.name;
    this.verdictName = findOutput(session, ['has_nsfw_concepts'], 'one verdict per picture').name;
  }

  /** Element type of `clip_input`, reported by `info` (`float16` for fp16 exports). */
  get floatType(): FloatType {
    return this.clipInputType;
  }

  /** True when the checker flags the picture (`has_nsfw_concepts[0]`). */
  async check(picture: RgbPicture, timing: ModelTiming): Promise<boolean> {
    const pixels = clipPixelValues(picture, this.processor);
    // `images` only feeds `out_images`, which is not read; it is the picture in [0, 1] as diffusers passes it.
    const images = new Float32Array(picture.rgb.length);
    for (let i = 0; i < images.length; i++) images[i] = picture.rgb[i]! / 255;
    const feeds: Record<string, TensorData> = {
      [this.clipInputName]: floatTensor(this.clipInputType, pixels.data, pixels.dims),
      [this.imagesName]: floatTensor(this.imagesType, images, [1, picture.height, picture.width, 3]),
    };
    const outputs = await timedRun(this.session, feeds, [this.verdictName], timing);
    const verdict = outputs[this.verdictName];
    if (!verdict || verdict.data.length !== 1) {
      throw new UserError(
        'model.unexpectedOutput',
        `${this.session.path}: expected one \`${this.verdictName}\` value per picture, got [${verdict?.dims.join(', ') ?? 'nothing'}].`,
      );
    }
    // onnxruntime hands a bool tensor out as a Uint8Array; integer or float exports flag with any non-zero value.
    const value = (verdict.data as ArrayLike<number | bigint>)[0]!;
    return typeof value === 'bigint' ? value !== 0n : value !== 0 && !Number.isNaN(value);
  }
}
