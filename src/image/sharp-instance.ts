import sharp from 'sharp';

/**
 * The configured sharp every module of `src/image` uses (import it from here, never from 'sharp').
 *
 * - Every libvips file loader is blocked except the buffer loaders of the formats latentcord reads, so that even
 *   a bug in our own format sniffing cannot hand user bytes to the SVG, PDF, TIFF, ImageMagick, ... loaders.
 *   Raw pixel input (`{ raw: … }`) is not a loader and stays available.
 * - libvips' operation cache is off: it would keep recent users' pictures in memory for no gain (each picture is
 *   processed once).
 */
sharp.block({ operation: ['VipsForeignLoad'] });
sharp.unblock({
  operation: ['VipsForeignLoadPngBuffer', 'VipsForeignLoadJpegBuffer', 'VipsForeignLoadWebpBuffer', 'VipsForeignLoadNsgifBuffer', 'VipsForeignLoadHeifBuffer'],
});
sharp.cache(false);

export { sharp };
