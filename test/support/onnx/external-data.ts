/**
 * Moving initializer weights out of the model file, following the ONNX external-data convention
 * (onnx/onnx `docs/ExternalData.md`): the tensor keeps its name, type and dims, loses `raw_data`, gets
 * `data_location = EXTERNAL` and `external_data` entries `location` (path relative to the model file),
 * `offset` and `length` (decimal strings).
 */
import { concatBytes } from './wire.js';
import { DataLocation } from './onnx-schema.js';
import type { GraphProto, StringStringEntry } from './onnx-proto.js';

/** Options of {@link moveInitializersToExternalData}. */
export interface ExternalDataOptions {
  /** File name (relative to the model file) of the data file, e.g. `model.onnx_data` or `weights.pb`. */
  location: string;
  /** Initializers with fewer raw bytes than this stay embedded (onnx's `size_threshold`, default 1024). */
  sizeThreshold?: number;
  /** Each tensor starts at a multiple of this many bytes in the data file (default 4096, a page, for mmap). */
  alignment?: number;
}

/** What {@link moveInitializersToExternalData} moved. */
export interface ExternalDataResult {
  /** Content of the data file to write beside the model. */
  data: Uint8Array;
  /** Names of the moved initializers, in file order. */
  moved: string[];
}

/**
 * Moves every initializer of `graph` that stores at least `sizeThreshold` bytes in `raw_data` to one
 * external data blob, in place. Tensors stored in typed fields (`float_data`, ...) stay embedded, as with
 * onnx's own converter.
 */
export function moveInitializersToExternalData(graph: GraphProto, options: ExternalDataOptions): ExternalDataResult {
  const sizeThreshold = options.sizeThreshold ?? 1024;
  const alignment = options.alignment ?? 4096;
  if (!Number.isInteger(alignment) || alignment < 1) throw new RangeError(`alignment must be a positive integer, got ${alignment}`);
  const chunks: Uint8Array[] = [];
  const moved: string[] = [];
  let offset = 0;
  for (const tensor of graph.initializer) {
    const raw = tensor.rawData;
    if (raw === undefined || raw.length < sizeThreshold) continue;
    const padding = (alignment - (offset % alignment)) % alignment;
    if (padding > 0) chunks.push(new Uint8Array(padding));
    offset += padding;
    chunks.push(raw);
    const entries: StringStringEntry[] = [
      { key: 'location', value: options.location },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(raw.length) },
    ];
    tensor.externalData = entries;
    tensor.dataLocation = DataLocation.external;
    delete tensor.rawData;
    offset += raw.length;
    moved.push(tensor.name ?? '');
  }
  return { data: concatBytes(chunks), moved };
}
