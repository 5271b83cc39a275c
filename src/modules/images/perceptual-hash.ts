import { createHash } from 'node:crypto';
import sharp from 'sharp';

/**
 * Image decoding and the perceptual hash (SPEC §19). sharp (libvips) decodes and shrinks; the hash
 * on top is the standard DCT pHash: greyscale, 32×32, 2-D DCT-II, the 8×8 lowest frequencies, one
 * bit per coefficient (above the median of the 64 → 1). 64 bits, compared by Hamming distance. dHash is kept for the bench's
 * comparison (`npm run bench -- images`), which chose pHash (docs/images.md).
 */

/**
 * Issue 18 (memory): libvips' operation cache is off (by default it keeps up to 50 MB and 100
 * operations of decoded images; every image here is a different download, so it never hits) and
 * each image is decoded on one thread (the job hashes one image at a time; the default is a
 * thread per core, each with its own buffers).
 */
sharp.cache(false);
sharp.concurrency(1);

/** Decompression-bomb guard: at most this many pixels are decoded (sharp's `limitInputPixels`). */
export const MAX_IMAGE_PIXELS = 40_000_000;

/** The formats we decode; anything else (SVG, which can carry script, PDF, …) is refused before decoding. */
export const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'avif', 'heif']);

export class ImageRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageRefused';
  }
}

export interface ImageFacts {
  sha256: string;
  /** The 64-bit pHash as a signed bigint (PostgreSQL `bigint`). */
  phash: bigint;
  format: string;
  width: number;
  height: number;
  /** A small JPEG (≤ 160 px) staff and the status page are shown: served by us, never hotlinked. */
  thumbnail: Buffer;
}

function open(buf: Buffer) {
  return sharp(buf, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: 'error', sequentialRead: true });
}

/** Reads the header only, refuses what we do not decode or what is too large, then hashes. */
export async function analyseImage(buf: Buffer): Promise<ImageFacts> {
  let meta: sharp.Metadata;
  try {
    meta = await sharp(buf, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw new ImageRefused(`not an image we can read: ${(e as Error).message}`);
  }
  const format = meta.format ?? 'unknown';
  if (!ACCEPTED_FORMATS.has(format)) throw new ImageRefused(`format ${format} is not accepted`);
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (!width || !height || width * height > MAX_IMAGE_PIXELS) {
    throw new ImageRefused(`${width}×${height} is over the ${MAX_IMAGE_PIXELS} pixel limit`);
  }
  try {
    const small = await reduced(buf);
    const [phash, thumbnail] = await Promise.all([
      grey32(small).then(pHashOfPixels),
      small.clone().resize(160, 160, { fit: 'inside', withoutEnlargement: true }).jpeg({ quality: 70 }).toBuffer(),
    ]);
    return { sha256: createHash('sha256').update(buf).digest('hex'), phash, format, width, height, thumbnail };
  } catch (e) {
    if (e instanceof ImageRefused) throw e;
    throw new ImageRefused(`could not decode: ${(e as Error).message}`);
  }
}

/**
 * The image decoded once, at most 256 px on its long side (JPEG and WebP decode at a reduced
 * scale directly: libvips' shrink-on-load), upright (EXIF orientation), as raw pixels that the hash
 * and the thumbnail both start from.
 */
async function reduced(buf: Buffer): Promise<sharp.Sharp> {
  const { data, info } = await open(buf)
    .rotate()
    .resize(256, 256, { fit: 'inside', withoutEnlargement: true })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } });
}

function grey32(img: sharp.Sharp): Promise<Buffer> {
  return img.clone().greyscale().resize(N, N, { fit: 'fill', kernel: 'lanczos3' }).raw().toBuffer();
}

const N = 32;
/** DCT-II basis, cos((2x+1)uπ / 2N), for u < 8: the only rows the hash needs. */
const COS: Float64Array[] = Array.from({ length: 8 }, (_, u) =>
  Float64Array.from({ length: N }, (_, x) => Math.cos(((2 * x + 1) * u * Math.PI) / (2 * N))),
);

/** The DCT pHash of an encoded image (the same pipeline as `analyseImage`). */
export async function pHash(buf: Buffer): Promise<bigint> {
  return pHashOfPixels(await grey32(await reduced(buf)));
}

/** pHash of 32×32 greyscale pixels (row-major). */
export function pHashOfPixels(px: Uint8Array): bigint {
  // Rows first: 32 rows × 8 frequencies, then columns: 8 × 8.
  const rows = new Float64Array(N * 8);
  for (let y = 0; y < N; y++)
    for (let u = 0; u < 8; u++) {
      let s = 0;
      const c = COS[u];
      for (let x = 0; x < N; x++) s += px[y * N + x] * c[x];
      rows[y * 8 + u] = s;
    }
  const coef = new Float64Array(64);
  for (let v = 0; v < 8; v++)
    for (let u = 0; u < 8; u++) {
      let s = 0;
      const c = COS[v];
      for (let y = 0; y < N; y++) s += rows[y * 8 + u] * c[y];
      coef[v * 8 + u] = s;
    }
  // The median of the 64 (as the `imagehash` library does): a uniform change of brightness moves only
  // the DC term, which is always above the median, so no bit depends on the exposure.
  const sorted = Array.from(coef).sort((a, b) => a - b);
  const median = (sorted[31] + sorted[32]) / 2;
  let h = 0n;
  for (let i = 0; i < 64; i++) h = (h << 1n) | (coef[i] > median ? 1n : 0n);
  return BigInt.asIntN(64, h);
}

/** The difference hash (9×8, each pixel brighter than its right neighbour), for comparison in the bench. */
export async function dHash(buf: Buffer): Promise<bigint> {
  const px = await (await reduced(buf)).greyscale().resize(9, 8, { fit: 'fill', kernel: 'lanczos3' }).raw().toBuffer();
  let h = 0n;
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) h = (h << 1n) | (px[y * 9 + x] > px[y * 9 + x + 1] ? 1n : 0n);
  return BigInt.asIntN(64, h);
}

/** Bits that differ between two 64-bit hashes. */
export function hamming(a: bigint, b: bigint): number {
  let x = BigInt.asUintN(64, a ^ b);
  let n = 0;
  while (x) {
    x &= x - 1n;
    n++;
  }
  return n;
}
