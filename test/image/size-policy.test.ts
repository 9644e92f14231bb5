import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitWithinLimits, planCoverCrop, planWithinLimits } from '../../src/image/size-policy.js';

const limits = { maxOutputPixels: 512 * 512, maxSide: 1024 };

describe('fitWithinLimits', () => {
  const table: Array<{ source: [number, number]; multipleOf?: number; expected: [number, number] }> = [
    { source: [96, 64], expected: [96, 64] },
    { source: [100, 70], expected: [96, 64] },
    { source: [512, 512], expected: [512, 512] },
    { source: [1024, 1024], expected: [512, 512] },
    { source: [3000, 2000], expected: [624, 416] },
    { source: [2000, 3000], expected: [416, 624] },
    { source: [3000, 2000], multipleOf: 64, expected: [576, 384] },
    { source: [4000, 50], expected: [1024, 8] },
    { source: [50, 4000], expected: [8, 1024] },
    { source: [5, 3], expected: [8, 8] },
    { source: [700, 300], multipleOf: 16, expected: [688, 288] },
  ];
  for (const { source, multipleOf, expected } of table) {
    it(`${source[0]}x${source[1]}${multipleOf ? ` by ${multipleOf}` : ''} → ${expected[0]}x${expected[1]}`, () => {
      const size = fitWithinLimits({ width: source[0], height: source[1] }, { ...limits, multipleOf });
      assert.deepEqual([size.width, size.height], expected);
      assert.ok(size.width * size.height <= limits.maxOutputPixels);
    });
  }

  it('stays within the area limit for many sizes', () => {
    for (let w = 1; w < 5000; w += 97) {
      for (let h = 1; h < 5000; h += 89) {
        const size = fitWithinLimits({ width: w, height: h }, { maxOutputPixels: 300_000, maxSide: 768, multipleOf: 8 });
        assert.ok(
          size.width * size.height <= 300_000 && size.width <= 768 && size.height <= 768,
          `${w}x${h} → ${size.width}x${size.height}`,
        );
        assert.ok(size.width % 8 === 0 && size.height % 8 === 0 && size.width >= 8 && size.height >= 8);
      }
    }
  });

  it('refuses limits that cannot be met', () => {
    assert.throws(() => fitWithinLimits({ width: 10, height: 10 }, { maxOutputPixels: 100, maxSide: 1024 }), RangeError);
    assert.throws(() => fitWithinLimits({ width: 10, height: 10 }, { maxOutputPixels: 512 * 512, maxSide: 4 }), RangeError);
    assert.throws(() => fitWithinLimits({ width: 0, height: 10 }, limits), RangeError);
  });
});

describe('planCoverCrop', () => {
  it('is a no-op for the same size', () => {
    assert.deepEqual(planCoverCrop({ width: 96, height: 64 }, { width: 96, height: 64 }), {
      crop: { left: 0, top: 0, width: 96, height: 64 },
    });
  });

  it('only crops when one side already matches', () => {
    assert.deepEqual(planCoverCrop({ width: 96, height: 64 }, { width: 64, height: 64 }), {
      crop: { left: 16, top: 0, width: 64, height: 64 },
    });
    assert.deepEqual(planCoverCrop({ width: 64, height: 101 }, { width: 64, height: 64 }), {
      crop: { left: 0, top: 18, width: 64, height: 64 },
    });
  });

  it('scales to cover, then crops the centre (height and width kept apart)', () => {
    assert.deepEqual(planCoverCrop({ width: 96, height: 64 }, { width: 48, height: 80 }), {
      resize: { width: 120, height: 80 },
      crop: { left: 36, top: 0, width: 48, height: 80 },
    });
    assert.deepEqual(planCoverCrop({ width: 3000, height: 2000 }, { width: 512, height: 512 }), {
      resize: { width: 768, height: 512 },
      crop: { left: 128, top: 0, width: 512, height: 512 },
    });
    assert.deepEqual(planCoverCrop({ width: 2000, height: 3000 }, { width: 768, height: 512 }), {
      resize: { width: 768, height: 1152 },
      crop: { left: 0, top: 320, width: 768, height: 512 },
    });
  });
});

describe('planWithinLimits', () => {
  it('crops instead of resampling when fewer than multipleOf pixels go', () => {
    assert.deepEqual(planWithinLimits({ width: 100, height: 70 }, limits), { crop: { left: 2, top: 3, width: 96, height: 64 } });
    assert.deepEqual(planWithinLimits({ width: 96, height: 64 }, limits), { crop: { left: 0, top: 0, width: 96, height: 64 } });
  });

  it('resamples when the picture must shrink', () => {
    const plan = planWithinLimits({ width: 3000, height: 2000 }, limits);
    assert.deepEqual(plan.crop, { left: 0, top: 0, width: 624, height: 416 });
    assert.deepEqual(plan.resize, { width: 624, height: 416 });
  });
});
