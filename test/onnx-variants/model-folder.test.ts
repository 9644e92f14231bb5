import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { tinyModelDir } from '../helpers/fixtures.js';
import { makeVariantModelFolder } from '../support/onnx/model-folder.js';
import { castInput, requireGraph } from '../support/onnx/graph-edit.js';
import { readModelFile, rewriteModelFile } from '../support/onnx/model-file.js';
import { describeSession, openSession } from '../support/onnx/ort-run.js';
import { DataType } from '../support/onnx/onnx-schema.js';

let workDir = '';
before(() => {
  workDir = mkdtempSync(join(tmpdir(), 'latentcord-model-folder-'));
});
after(() => {
  rmSync(workDir, { recursive: true, force: true });
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

const sameBytes = (a: string, b: string): boolean => readFileSync(a).equals(readFileSync(b));

async function inputTypes(path: string): Promise<string[]> {
  const session = await openSession(path);
  try {
    return describeSession(session).inputs.map((i) => `${i.name}:${i.type}`);
  } finally {
    await session.release();
  }
}

test('without variants the folder is a byte-identical copy of tiny-sd', () => {
  const dir = join(workDir, 'plain');
  const folder = makeVariantModelFolder(dir);
  assert.equal(folder.dir, dir);
  assert.deepEqual(filesUnder(dir), filesUnder(tinyModelDir));
  for (const file of filesUnder(tinyModelDir)) assert.ok(sameBytes(join(dir, file), join(tinyModelDir, file)), file);
  assert.deepEqual(folder.models, {
    text_encoder: join(dir, 'text_encoder', 'model.onnx'),
    unet: join(dir, 'unet', 'model.onnx'),
    vae_encoder: join(dir, 'vae_encoder', 'model.onnx'),
    vae_decoder: join(dir, 'vae_decoder', 'model.onnx'),
  });
});

test('chosen components are replaced, the rest (configs, tokenizer, other models) copied unchanged', async () => {
  const dir = join(workDir, 'mixed');
  const folder = makeVariantModelFolder(dir, {
    textEncoder: 'int64InputIds',
    unet: 'float16',
    vaeEncoder: ['latentSample', 'externalData'],
  });
  const expectedFiles = [...filesUnder(tinyModelDir), join('vae_encoder', 'model.onnx_data')].sort();
  assert.deepEqual(filesUnder(dir), expectedFiles);
  for (const file of filesUnder(tinyModelDir)) {
    const replaced = ['text_encoder', 'unet', 'vae_encoder'].some((c) => file === join(c, 'model.onnx'));
    assert.equal(sameBytes(join(dir, file), join(tinyModelDir, file)), !replaced, file);
  }
  assert.deepEqual(await inputTypes(folder.models.text_encoder ?? ''), ['input_ids:int64']);
  assert.deepEqual(await inputTypes(folder.models.unet ?? ''), ['sample:float16', 'timestep:float16', 'encoder_hidden_states:float16']);
  const session = await openSession(folder.models.vae_encoder ?? '');
  try {
    assert.deepEqual(session.outputNames, ['latent_sample']);
  } finally {
    await session.release();
  }
  assert.ok(statSync(join(dir, 'vae_encoder', 'model.onnx')).size < statSync(join(tinyModelDir, 'vae_encoder', 'model.onnx')).size / 2);
});

test('omitted components are left out entirely', () => {
  const dir = join(workDir, 'omit');
  const folder = makeVariantModelFolder(dir, { omit: ['vae_encoder'], vaeDecoder: 'truncated' });
  assert.equal(existsSync(join(dir, 'vae_encoder')), false);
  assert.equal(folder.models.vae_encoder, undefined);
  assert.ok(existsSync(join(dir, 'model_index.json')));
  assert.ok(statSync(join(dir, 'vae_decoder', 'model.onnx')).size < statSync(join(tinyModelDir, 'vae_decoder', 'model.onnx')).size);
});

test('a custom builder can stand in for a named variant', () => {
  const dir = join(workDir, 'custom');
  const folder = makeVariantModelFolder(dir, {
    vaeDecoder: (source, target) => rewriteModelFile(source, target, (graph) => castInput(graph, 'latent_sample', DataType.double)),
  });
  const input = requireGraph(readModelFile(folder.models.vae_decoder ?? '')).input[0];
  assert.equal(input?.type?.tensorType?.elemType, DataType.double);
});

test('misuse is reported', () => {
  assert.throws(() => makeVariantModelFolder(join(workDir, 'bad1'), { unet: 'nope' as never }), /unknown unet variant "nope"/);
  assert.throws(() => makeVariantModelFolder(join(workDir, 'bad2'), { unet: ['externalData', 'float16'] }), /only be the last step/);
  assert.throws(
    () => makeVariantModelFolder(join(workDir, 'bad3'), { unet: 'float16', omit: ['unet'] }),
    /both omitted and given a variant/,
  );
});
