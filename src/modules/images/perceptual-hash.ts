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
    // One decode serves the hash and the thumbnail (profile: a second sharp pipeline from the raw
    // pixels for the 32 × 32 greyscale cost as much as the thumbnail's JPEG encoding).
    const small = await reduced(buf);
    const phash = pHashOfPixels(greyArea(small, N, N));
    const thumbnail = await sharp(small.data, { raw: { width: small.width, height: small.height, channels: small.channels } })
      .jpeg({ quality: 70 })
      .toBuffer();
    return { sha256: createHash('sha256').update(buf).digest('hex'), phash, format, width, height, thumbnail };
  } catch (e) {
    if (e instanceof ImageRefused) throw e;
    throw new ImageRefused(`could not decode: ${(e as Error).message}`);
  }
}

/** The thumbnail's size, and the size every image is decoded at. */
const SMALL = 160;

interface Pixels {
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/**
 * The image decoded once, at most 160 px on its long side (the thumbnail's size), upright (EXIF
 * orientation), without alpha, as raw pixels that the hash and the thumbnail both start from.
 * JPEG and WebP decode at a reduced scale directly (libvips' shrink-on-load): a 1,000 × 700 JPEG
 * is decoded at 1/4 scale (250 × 175) and never at full size. Measured (bench/images.ts): decoding
 * at ≤ 256 px let libvips shrink only by 2, which cost as much as a full decode.
 */
async function reduced(buf: Buffer): Promise<Pixels> {
  const { data, info } = await open(buf)
    .rotate()
    .resize(SMALL, SMALL, { fit: 'inside', withoutEnlargement: true })
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height, channels: info.channels };
}

/**
 * Greyscale (Rec. 601 luma) at w × h, the aspect ignored, each output pixel the area-weighted mean
 * of the source pixels it covers (fractional edges weighted by their share): a box filter over an
 * image already shrunk by libvips, done here in one pass rather than in a second sharp pipeline.
 */
export function greyArea(px: Pixels, w: number, h: number): Float64Array {
  const { data, width: W, height: H, channels: ch } = px;
  const luma = new Float64Array(W * H);
  if (ch >= 3) for (let i = 0, j = 0; i < luma.length; i++, j += ch) luma[i] = 0.299 * data[j] + 0.587 * data[j + 1] + 0.114 * data[j + 2];
  else for (let i = 0, j = 0; i < luma.length; i++, j += ch) luma[i] = data[j];
  const cols = boxWeights(W, w);
  const rows = boxWeights(H, h);
  const across = new Float64Array(w * H);
  for (let y = 0; y < H; y++)
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (const [i, k] of cols[x]) s += luma[y * W + i] * k;
      across[y * w + x] = s;
    }
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (const [i, k] of rows[y]) s += across[i * w + x] * k;
      out[y * w + x] = s;
    }
  return out;
}

/** For each of n output cells over `size` source pixels: the pixels it covers and their weights (summing to 1). */
function boxWeights(size: number, n: number): [number, number][][] {
  const step = size / n;
  return Array.from({ length: n }, (_, o) => {
    const from = o * step;
    const to = from + step;
    const cells: [number, number][] = [];
    for (let i = Math.floor(from); i < Math.min(size, Math.ceil(to)); i++) {
      const cover = Math.min(to, i + 1) - Math.max(from, i);
      if (cover > 1e-9) cells.push([i, cover / step]);
    }
    return cells;
  });
}

const N = 32;
/** DCT-II basis, cos((2x+1)uπ / 2N), for u < 8: the only rows the hash needs. */
const COS: Float64Array[] = Array.from({ length: 8 }, (_, u) =>
  Float64Array.from({ length: N }, (_, x) => Math.cos(((2 * x + 1) * u * Math.PI) / (2 * N))),
);

/** The DCT pHash of an encoded image (the same pipeline as `analyseImage`). */
export async function pHash(buf: Buffer): Promise<bigint> {
  return pHashOfPixels(greyArea(await reduced(buf), N, N));
}

/** pHash of 32×32 greyscale pixels (row-major). */
export function pHashOfPixels(px: ArrayLike<number>): bigint {
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
  const px = greyArea(await reduced(buf), 9, 8);
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
