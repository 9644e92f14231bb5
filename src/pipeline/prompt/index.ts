/**
 * Prompts read the AUTOMATIC1111 way: emphasis syntax, `BREAK`, any length in 77-token chunks, and the chunk-wise
 * conditioning through a text encoder.
 */
export { isBreakMarker, parsePromptAttention, type WeightedText } from './attention.js';
export {
  chunkInputIds,
  chunkTokens,
  defaultChunkLength,
  type ChunkedPrompt,
  type ChunkOptions,
  type ChunkVocabulary,
  type PromptChunk,
  type PromptToken,
} from './chunks.js';
export { applyEmphasis } from './emphasis.js';
export {
  concatenateHidden,
  DualPromptEncoder,
  padWithEmptyChunks,
  PromptEncoder,
  type ChunkEncoder,
  type ChunkEncoding,
  type EncoderTokenIds,
  type PromptEmbeddings,
  type PromptsEncoder,
} from './prompt-encoder.js';
export {
  defaultEmphasis,
  defaultMaxPromptTokens,
  emphasisModes,
  tokenizePrompt,
  type EmphasisMode,
  type PromptReadingOptions,
  type PromptReport,
  type PromptTokenizer,
  type TokenizedPrompt,
} from './tokenize-prompt.js';
