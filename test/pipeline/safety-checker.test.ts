import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isUserError } from '../../src/errors.js';
import { readModelFolder } from '../../src/model/model-folder.js';
import { loadSafetyChecker, type SafetyChecker } from '../../src/pipeline/safety-checker.js';
import { SessionFactory } from '../../src/runtime/session-factory.js';
import { tinyModelDir } from '../helpers/fixtures.js';
import { writeSafetyChecker, type SafetyCheckerGraphOptions } from '../support/onnx/safety-checker-graphs.js';

const factory = new SessionFactory();
const load = (path: string) => factory.load(path);

function solid(width: number, height: number, value: number) {
  return { rgb: new Uint8Array(width * height * 3).fill(value), width, height };
}

describe('safety checker (core component)', () => {
  let workDir: string;
  let count = 0;
  before(() => {
    workDir = mkdtempSync(join(tmpdir(), 'latentcord-checker-'));
  });
  after(() => rmSync(workDir, { recursive: true, force: true }));

  /** A copy of the tiny model with a safety checker in it. */
  function folderWith(options: SafetyCheckerGraphOptions, config?: object): string {
    const dir = join(workDir, `model-${count++}`);
    cpSync(tinyModelDir, dir, { recursive: true });
    writeSafetyChecker(dir, options, config);
    return dir;
  }

  async function withChecker<T>(dir: string, use: (checker: SafetyChecker) => Promise<T>): Promise<T> {
    const checker = await loadSafetyChecker(readModelFolder(dir), load);
    assert.ok(checker, 'a checker was found');
    try {
      return await use(checker);
    } finally {
      await checker.release();
    }
  }

  const pictures = [solid(64, 64, 0), solid(96, 64, 255), solid(64, 96, 128), solid(512, 512, 30)];

  it('a folder without a checker has none, and loading gives undefined', async () => {
    const folder = readModelFolder(tinyModelDir);
    assert.equal(folder.safetyChecker, undefined);
    assert.equal(folder.safetyCheckerProblem, undefined);
    assert.equal(await loadSafetyChecker(folder, load), undefined);
  });

  it('a graph that flags everything flags every picture', async () => {
    await withChecker(folderWith({ flags: 'all' }), async (checker) => {
      for (const picture of pictures) assert.equal(await checker.check(picture), true);
      assert.equal(checker.timing.modelCalls, pictures.length, 'one graph run per picture, as diffusers');
    });
  });

  it('a graph that flags nothing flags no picture', async () => {
    await withChecker(folderWith({ flags: 'none' }), async (checker) => {
      for (const picture of pictures) assert.equal(await checker.check(picture), false);
    });
  });

  for (const float16 of [false, true]) {
    it(`the graph sees the preprocessed picture (${float16 ? 'fp16' : 'fp32'} inputs): white is flagged, black is not`, async () => {
      await withChecker(folderWith({ flags: 'bright', float16 }), async (checker) => {
        assert.equal(checker.floatType, float16 ? 'float16' : 'float32');
        assert.equal(await checker.check(solid(96, 64, 255)), true);
        assert.equal(await checker.check(solid(96, 64, 0)), false);
        // Grey 100: 100/255 is below every channel mean, so all normalised values are negative; 140/255 above all.
        assert.equal(await checker.check(solid(64, 96, 100)), false);
        assert.equal(await checker.check(solid(64, 96, 140)), true);
      });
    });
  }

  it('detects the checker in a model folder, and names the missing half when only the graph is there', () => {
    const dir = folderWith({ flags: 'none' });
    const folder = readModelFolder(dir);
    assert.equal(folder.safetyChecker?.modelFile, join(dir, 'safety_checker', 'model.onnx'));
    assert.equal(folder.safetyChecker?.preprocessorConfigFile, join(dir, 'feature_extractor', 'preprocessor_config.json'));
    unlinkSync(join(dir, 'feature_extractor', 'preprocessor_config.json'));
    const partial = readModelFolder(dir);
    assert.equal(partial.safetyChecker, undefined);
    assert.match(partial.safetyCheckerProblem ?? '', /preprocessor_config\.json is missing/);
  });

  it('a graph without has_nsfw_concepts is refused, naming the file', async () => {
    const dir = folderWith({ flags: 'all', omitVerdict: true });
    await assert.rejects(
      loadSafetyChecker(readModelFolder(dir), load),
      (error: unknown) =>
        isUserError(error) &&
        error.identifier === 'model.unexpectedLayout' &&
        /safety_checker\/model\.onnx: expected an output named `has_nsfw_concepts`/.test(error.message),
    );
  });

  it('a graph whose clip_input size disagrees with the crop size is refused', async () => {
    const dir = folderWith({ flags: 'all', clipSide: 256 });
    await assert.rejects(
      loadSafetyChecker(readModelFolder(dir), load),
      (error: unknown) => isUserError(error) && /declared \[batch, 3, 256, 256\].*crops to 224x224/.test(error.message),
    );
  });

  it('a broken preprocessor config is refused, naming the file and key', async () => {
    const dir = folderWith({ flags: 'all' }, { resample: 'fancy' });
    await assert.rejects(
      loadSafetyChecker(readModelFolder(dir), load),
      (error: unknown) =>
        isUserError(error) && error.identifier === 'model.badConfig' && /preprocessor_config\.json.*`resample`/.test(error.message),
    );
  });
});
