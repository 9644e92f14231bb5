import { UserError } from '../../errors.js';
import type { ModelSession, TensorData } from '../model-session.js';
import type { ChunkEncoder, ChunkEncoding } from '../prompt/prompt-encoder.js';
import { expectRank, findInput, findOutput, floatTypeOf, readFloatOutput, timedRun, type ModelTiming } from './io.js';

/** The CLIP text encoder graph: token ids in, `last_hidden_state` out (diffusers uses `text_encoder(ids)[0]`). */
export class TextEncoder implements ChunkEncoder {
  private readonly idsName: string;
  private readonly idsType: 'int32' | 'int64';
  private readonly outputName: string;

  /** Checks the graph's declared inputs and outputs; an unknown layout is a UserError naming the file. */
  constructor(private readonly session: ModelSession) {
    const ids = findInput(session, ['input_ids'], 'token ids');
    if (ids.type !== 'int32' && ids.type !== 'int64') {
      throw new UserError('model.unexpectedLayout', `${session.path}: expected \`input_ids\` to be int32 or int64, got ${ids.type}.`);
    }
    expectRank(session, ids, 2, 'token ids [batch, sequence]');
    this.idsName = ids.name;
    this.idsType = ids.type;
    const output = findOutput(session, ['last_hidden_state'], 'text embeddings [batch, sequence, hidden]');
    floatTypeOf(session, output, 'text embeddings');
    this.outputName = output.name;
  }

  /** Element type of the ids input, reported by `info`. */
  get inputIdsType(): 'int32' | 'int64' {
    return this.idsType;
  }

  /** Element type of the embeddings, reported by `info`. */
  get outputType(): string {
    return this.session.outputs.find((o) => o.name === this.outputName)!.type;
  }

  /** Encodes one tokenized prompt (`[1, sequence]`) into `[1, sequence, hidden]` float32 embeddings. */
  async encode(inputIds: Int32Array, timing: ModelTiming): Promise<{ data: Float32Array; dims: [number, number, number] }> {
    const dims = [1, inputIds.length];
    const ids: TensorData =
      this.idsType === 'int32'
        ? { type: 'int32', data: inputIds, dims }
        : { type: 'int64', data: BigInt64Array.from(inputIds, (id) => BigInt(id)), dims };
    const outputs = await timedRun(this.session, { [this.idsName]: ids }, [this.outputName], timing);
    const tensor = outputs[this.outputName];
    const hidden = tensor?.dims.length === 3 ? tensor.dims[2]! : 0;
    if (!(hidden > 0) || tensor?.dims[1] !== inputIds.length) {
      throw new UserError(
        'model.unexpectedOutput',
        `${this.session.path}: expected \`${this.outputName}\` of shape [1, ${inputIds.length}, hidden], got [${tensor?.dims.join(', ') ?? 'nothing'}].`,
      );
    }
    const dimsOut: [number, number, number] = [1, inputIds.length, hidden];
    return { data: readFloatOutput(this.session, outputs, this.outputName, dimsOut), dims: dimsOut };
  }

  /** One prompt chunk's `last_hidden_state` (Clip skip 1, as A1111's default and diffusers). */
  async encodeChunk(ids: Int32Array, timing: ModelTiming): Promise<ChunkEncoding> {
    const { data, dims } = await this.encode(ids, timing);
    return { hiddenStates: data, hiddenSize: dims[2] };
  }
}
