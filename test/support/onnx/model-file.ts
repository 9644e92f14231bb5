/** Reading, writing and rewriting `.onnx` files. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { decodeModel, encodeModel, type GraphProto, type ModelProto } from './onnx-proto.js';
import { requireGraph } from './graph-edit.js';

/** Decodes a `.onnx` file (external data, if any, is not read: tensors keep their references). */
export function readModelFile(path: string): ModelProto {
  return decodeModel(readFileSync(path));
}

/** Encodes `model` to `path`, creating the folder if needed. */
export function writeModelFile(path: string, model: ModelProto): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, encodeModel(model));
}

/** Reads `source`, lets `edit` change its main graph (and model) in place, and writes the result to `target`. */
export function rewriteModelFile(source: string, target: string, edit: (graph: GraphProto, model: ModelProto) => void): void {
  const model = readModelFile(source);
  edit(requireGraph(model), model);
  writeModelFile(target, model);
}
