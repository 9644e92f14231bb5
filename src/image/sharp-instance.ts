import sharpModule from 'sharp';

function configure(instance: typeof sharpModule): typeof sharpModule {
  instance.block({ operation: ['VipsForeignLoad'] });
  instance.unblock({
    operation: [
      'VipsForeignLoadPngBuffer',
      'VipsForeignLoadJpegBuffer',
      'VipsForeignLoadWebpBuffer',
      'VipsForeignLoadNsgifBuffer',
      'VipsForeignLoadHeifBuffer',
    ],
  });
  instance.cache(false);
  return instance;
}

/**
 * The configured sharp every module of `src/image` uses (import it from here, never from 'sharp'):
 *
 * - every libvips file loader is blocked except the buffer loaders of the formats latentcord reads, so that even
 *   a bug in our own format sniffing cannot hand user bytes to the SVG, PDF, TIFF, ImageMagick, ... loaders
 *   (raw pixel input, `{ raw: … }`, is not a loader and stays available);
 * - libvips' operation cache is off: it would keep recent users' pictures in memory for no gain, since each
 *   picture is processed once.
 *
 * Both settings are process-wide, which is why `src/image` is the only place that imports sharp.
 */
export const sharp: typeof sharpModule = configure(sharpModule);
