import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isUserError } from '../../src/errors.js';
import { selectModelFiles, type RepoFile } from '../../src/hub/select-files.js';

const layout = [
  'model_index.json',
  'scheduler/scheduler_config.json',
  'tokenizer/vocab.json',
  'tokenizer/merges.txt',
  'tokenizer/tokenizer_config.json',
  'tokenizer/special_tokens_map.json',
  'text_encoder/model.onnx',
  'text_encoder/config.json',
  'unet/model.onnx',
  'unet/config.json',
  'vae_decoder/model.onnx',
  'vae_decoder/config.json',
  'vae_encoder/model.onnx',
  'vae_encoder/config.json',
];

function listing(paths: readonly string[], prefix = ''): RepoFile[] {
  return paths.map((path, i) => ({ path: prefix + path, size: i + 1, oid: String(i).padStart(40, '0') }));
}

function selected(files: readonly RepoFile[], subfolder?: string): string[] {
  return selectModelFiles(files, 'owner/model', subfolder).files.map((file) => file.path);
}

describe('selectModelFiles', () => {
  it('keeps the whole diffusers ONNX layout, sorted', () => {
    assert.deepEqual(selected(listing(layout)), [...layout].sort());
  });

  it('takes tokenizer.json where a tokenizer folder has no vocab.json and merges.txt', () => {
    const fast = [...layout.filter((path) => !/^tokenizer\/(vocab\.json|merges\.txt)$/.test(path)), 'tokenizer/tokenizer.json'];
    assert.deepEqual(selected(listing(fast)), [...fast].sort());
    assert.ok(
      !selected(listing([...layout, 'tokenizer/tokenizer.json'])).includes('tokenizer/tokenizer.json'),
      'not needed beside the slow files',
    );
  });

  it("takes an SDXL folder's second text encoder (with its external weights) and second tokenizer", () => {
    const sdxl = [
      ...layout,
      'text_encoder_2/model.onnx',
      'text_encoder_2/model.onnx_data',
      'text_encoder_2/config.json',
      'tokenizer_2/vocab.json',
      'tokenizer_2/merges.txt',
      'tokenizer_2/tokenizer_config.json',
      'tokenizer_2/special_tokens_map.json',
    ];
    assert.deepEqual(
      selected(listing([...sdxl, 'text_encoder_2/model.safetensors', 'vae/diffusion_pytorch_model.safetensors'])),
      [...sdxl].sort(),
    );
    assert.throws(
      () => selected(listing(sdxl.filter((path) => !path.startsWith('tokenizer_2/')))),
      (error: unknown) =>
        isUserError(error) &&
        error.identifier === 'hub.notOnnxLayout' &&
        /missing tokenizer_2\/vocab\.json, tokenizer_2\/merges\.txt/.test(error.message),
    );
  });

  const cases: Array<{ name: string; extra: string[]; taken: string[] }> = [
    {
      name: 'external data beside the graphs',
      extra: ['unet/model.onnx_data', 'unet/weights.pb', 'text_encoder/model.onnx.data', 'unet/onnx__MatMul_1234'],
      taken: ['unet/model.onnx_data', 'unet/weights.pb', 'text_encoder/model.onnx.data', 'unet/onnx__MatMul_1234'],
    },
    {
      name: 'PyTorch weights, other graphs, pictures, docs and components the pipeline does not use',
      extra: [
        'unet/diffusion_pytorch_model.safetensors',
        'unet/diffusion_pytorch_model.bin',
        'vae_decoder/model.ckpt',
        'unet/model_fp16.onnx',
        'unet/README.md',
        'unet/readme',
        'unet/.gitattributes',
        'unet/preview.png',
        'unet/nested/weights.pb',
        'README.md',
        '.gitattributes',
        'tokenizer/added_tokens.json',
        'scheduler/other.json',
      ],
      taken: [],
    },
    {
      name: 'a safety checker with its preprocessing config (graph, external data, config; no PyTorch weights)',
      extra: [
        'safety_checker/model.onnx',
        'safety_checker/model.onnx_data',
        'safety_checker/config.json',
        'safety_checker/pytorch_model.bin',
        'feature_extractor/preprocessor_config.json',
      ],
      taken: [
        'safety_checker/model.onnx',
        'safety_checker/model.onnx_data',
        'safety_checker/config.json',
        'feature_extractor/preprocessor_config.json',
      ],
    },
    {
      name: 'a safety checker graph without its preprocessing config (unusable, left out)',
      extra: ['safety_checker/model.onnx', 'safety_checker/config.json'],
      taken: [],
    },
    {
      name: 'a preprocessing config without a safety checker graph (left out)',
      extra: ['feature_extractor/preprocessor_config.json'],
      taken: [],
    },
  ];
  for (const { name, extra, taken } of cases) {
    it(`decides on ${name}`, () => {
      assert.deepEqual(selected(listing([...layout, ...extra])), [...layout, ...taken].sort());
    });
  }

  it('does without a vae_encoder and the optional tokenizer files, and ignores a vae_encoder folder without a graph', () => {
    const minimal = layout.filter((path) => !path.startsWith('vae_encoder/') && !/tokenizer_config|special_tokens/.test(path));
    assert.deepEqual(selected(listing([...minimal, 'vae_encoder/config.json'])), [...minimal].sort());
  });

  it('finds a single model folder below the root and maps paths into the model folder', () => {
    const files = [...listing(['README.md', 'unet/diffusion_pytorch_model.safetensors']), ...listing(layout, 'onnx/')];
    const selection = selectModelFiles(files, 'owner/model');
    assert.equal(selection.subfolder, 'onnx');
    assert.deepEqual(
      selection.files.map((file) => file.localPath),
      [...layout].sort(),
    );
    assert.ok(selection.files.every((file) => file.path === 'onnx/' + file.localPath));
  });

  it('prefers the root, takes an explicit subfolder, and refuses to guess among several', () => {
    const files = [...listing(layout), ...listing(layout, 'a/'), ...listing(layout, 'b/')];
    assert.equal(selectModelFiles(files, 'owner/model').subfolder, '');
    assert.equal(selectModelFiles(files, 'owner/model', '/b/').subfolder, 'b');
    const noRoot = files.filter((file) => /^(a|b)\//.test(file.path));
    assert.throws(
      () => selectModelFiles(noRoot, 'owner/model'),
      (error) => isUserError(error) && error.identifier === 'hub.ambiguousLayout' && /"a", "b"/.test(error.message),
    );
    assert.throws(
      () => selectModelFiles(files, 'owner/model', '../x'),
      (error) => isUserError(error) && error.identifier === 'hub.badSubfolder',
    );
  });

  it('names every missing required file', () => {
    const files = listing(layout.filter((path) => path !== 'unet/model.onnx' && path !== 'scheduler/scheduler_config.json'));
    assert.throws(
      () => selectModelFiles(files, 'owner/model'),
      (error) =>
        isUserError(error) &&
        error.identifier === 'hub.notOnnxLayout' &&
        error.message.includes('missing scheduler/scheduler_config.json, unet/model.onnx'),
    );
    assert.throws(
      () => selectModelFiles(listing(['model_index.json', 'unet/diffusion_pytorch_model.safetensors']), 'owner/model'),
      (error) => isUserError(error) && /PyTorch weights/.test(error.message) && /text_encoder\/model\.onnx/.test(error.message),
    );
  });
});
