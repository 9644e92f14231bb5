import { ClipTokenizer } from '../../../src/tokenizer/index.js';
import { fixturePath, loadJsonFixture, type FixtureTensor } from '../../helpers/fixtures.js';

/** One case of `prompt-weighting-cases.json` (AUTOMATIC1111's own code on the tiny text encoder). */
export interface PromptWeightingCase {
  id: string;
  role: 'prompt' | 'negative_prompt';
  prompt: string;
  covers: string;
  /** `[[text, weight], ...]`; BREAK markers are `["BREAK", -1]`. */
  parsed: [string, number][];
  fragment_token_ids: number[][];
  token_count: number;
  num_chunks: number;
  chunks: { tokens: number[]; multipliers: number[] }[];
  weighted: boolean;
  z_reproducible: boolean;
  /** "Original" emphasis output where reproducible, else null. */
  z: FixtureTensor | null;
  /** Encoder output per chunk, concatenated (when `z` is null). */
  hidden_states?: FixtureTensor;
  /** "No norm" emphasis output (when `z` is null). */
  z_no_norm?: FixtureTensor;
  equals_diffusers_encoding_of?: string;
}

/** `emphasis_original_unit_cases`: A1111's "Original" rescale on well-conditioned input. */
export interface EmphasisUnitCase {
  source_case: string;
  chunk: number;
  tokens: number[];
  multipliers: number[];
  input: FixtureTensor;
  original_mean: number;
  new_mean: number;
  ratio: number;
  output: FixtureTensor;
}

export interface PromptWeightingFile {
  bos_token_id: number;
  eos_token_id: number;
  comma_token_id: number;
  chunk_length: number;
  cases: PromptWeightingCase[];
  emphasis_original_unit_cases: EmphasisUnitCase[];
}

/** The parsed fixture file. */
export function promptWeightingCases(): PromptWeightingFile {
  return loadJsonFixture<PromptWeightingFile>('prompt-weighting-cases.json');
}

/** The tiny model's CLIP tokenizer (SD 1.x: pads with eos). */
export function tinyTokenizer(): ClipTokenizer {
  return ClipTokenizer.fromFolder(fixturePath('tiny-sd', 'tokenizer'));
}
