/**
 * Classifier-free guidance combination in float32, as diffusers computes
 * `noise_pred_uncond + guidance_scale * (noise_pred_text - noise_pred_uncond)` on float32 tensors.
 * `prediction` holds `[uncond rows..., cond rows...]`; rows of job j use `guidanceScales[row]`.
 * Writes `rows * rowSize` values into `out`.
 */
export function combineGuidance(prediction: Float32Array, rowGuidance: Float32Array, rowSize: number, out: Float32Array): void {
  const rows = rowGuidance.length;
  const condOffset = rows * rowSize;
  for (let row = 0; row < rows; row++) {
    const scale = rowGuidance[row]!;
    const base = row * rowSize;
    for (let i = base; i < base + rowSize; i++) {
      const uncond = prediction[i]!;
      out[i] = Math.fround(uncond + Math.fround(scale * Math.fround(prediction[condOffset + i]! - uncond)));
    }
  }
}

/**
 * diffusers' `get_guidance_scale_embedding(w, embedding_dim)` for LCM-distilled UNets (`time_cond_proj_dim`):
 * a sinusoidal embedding of `(guidanceScale - 1) * 1000`, one row per image, computed in float32.
 */
export function guidanceScaleEmbedding(guidanceScales: readonly number[], embeddingDim: number): Float32Array {
  const halfDim = Math.floor(embeddingDim / 2);
  const exponent = Math.fround(Math.fround(Math.log(10000)) / (halfDim - 1));
  const frequencies = new Float32Array(halfDim);
  for (let k = 0; k < halfDim; k++) frequencies[k] = Math.fround(Math.exp(Math.fround(k * -exponent)));
  const out = new Float32Array(guidanceScales.length * embeddingDim); // an odd dimension keeps a zero pad column
  guidanceScales.forEach((guidanceScale, row) => {
    const w = Math.fround(Math.fround(guidanceScale - 1) * 1000);
    for (let k = 0; k < halfDim; k++) {
      const angle = Math.fround(w * frequencies[k]!);
      out[row * embeddingDim + k] = Math.sin(angle);
      out[row * embeddingDim + halfDim + k] = Math.cos(angle);
    }
  });
  return out;
}
