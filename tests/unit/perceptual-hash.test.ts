import sharp from 'sharp';
import { syntheticPhoto, TRANSFORMS } from '../../src/demo/synthetic-photos';
import { analyseImage, dHash, hamming, ImageRefused, pHash, pHashOfPixels } from '../../src/modules/images';
import { DEFAULT_IMAGE_DISTANCE } from '../../src/modules/staydown';

/** Real images made by sharp (SPEC §19): the same photo edited must match; another photo must not. */
describe('the perceptual hash (64-bit DCT pHash)', () => {
  const SEEDS = [3, 11, 29];
  const SIZE = { width: 640, height: 448 };
  let photos: Buffer[];
  let hashes: bigint[];

  beforeAll(async () => {
    photos = await Promise.all(SEEDS.map((s) => syntheticPhoto(s, SIZE)));
    hashes = await Promise.all(photos.map((p) => pHash(p)));
  }, 120_000);

  it.each(Object.keys(TRANSFORMS))(
    'when the photo is %s, then its hash stays within the staydown distance',
    async (kind) => {
      for (let i = 0; i < photos.length; i++) {
        const copy = await TRANSFORMS[kind](photos[i]);
        expect(copy.equals(photos[i])).toBe(false);
        expect(hamming(hashes[i], await pHash(copy))).toBeLessThanOrEqual(DEFAULT_IMAGE_DISTANCE);
      }
    },
    120_000,
  );

  it('when JPEG becomes PNG and back to JPEG, then it still matches', async () => {
    const png = await syntheticPhoto(SEEDS[0], { ...SIZE, format: 'png' });
    const jpeg = await sharp(png).jpeg({ quality: 70 }).toBuffer();
    expect(hamming(await pHash(png), await pHash(jpeg))).toBeLessThanOrEqual(DEFAULT_IMAGE_DISTANCE);
  }, 120_000);

  it('when another photo of the same scene is taken (subjects moved, camera panned, other light), then it does not match', async () => {
    for (let i = 0; i < SEEDS.length; i++) {
      for (const shot of [1, 2]) {
        const other = await syntheticPhoto(SEEDS[i], { ...SIZE, shot });
        expect(hamming(hashes[i], await pHash(other))).toBeGreaterThan(DEFAULT_IMAGE_DISTANCE);
      }
    }
  }, 120_000);

  it('when photos are unrelated, then they are far apart', () => {
    for (let i = 0; i < hashes.length; i++)
      for (let j = i + 1; j < hashes.length; j++) expect(hamming(hashes[i], hashes[j])).toBeGreaterThan(DEFAULT_IMAGE_DISTANCE);
  });

  it('when the hash is computed, then it is deterministic, 64 bits, and a uniform change of exposure changes no bit', async () => {
    expect(await pHash(photos[0])).toBe(hashes[0]);
    expect(BigInt.asIntN(64, hashes[0])).toBe(hashes[0]);
    const noise = Uint8Array.from({ length: 32 * 32 }, (_, i) => (i * 2654435761) % 200);
    expect(pHashOfPixels(noise)).toBe(pHashOfPixels(noise.map((v) => v + 40)));
    expect(hamming(0n, -1n)).toBe(64);
    expect(typeof (await dHash(photos[0]))).toBe('bigint');
  });

  describe('hostile images', () => {
    it('when a PNG header claims 30,000 × 30,000 pixels, then it is refused before decoding', async () => {
      const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#808080' } })
        .png()
        .toBuffer();
      const bomb = Buffer.from(png);
      bomb.writeUInt32BE(30_000, 16);
      bomb.writeUInt32BE(30_000, 20);
      bomb.writeUInt32BE(crc32(bomb.subarray(12, 29)), 29);
      await expect(analyseImage(bomb)).rejects.toThrow(ImageRefused);
      await expect(analyseImage(bomb)).rejects.toThrow(/pixel limit/);
    });

    it('when a JPEG is truncated, then it is refused, not half-hashed', async () => {
      await expect(analyseImage(photos[0].subarray(0, Math.floor(photos[0].length / 3)))).rejects.toThrow(ImageRefused);
    });

    it('when an SVG carries a script, then it is refused (SVG is never decoded)', async () => {
      const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>');
      await expect(analyseImage(svg)).rejects.toThrow(/format svg is not accepted/);
    });

    it('when the bytes are not an image, then it is refused', async () => {
      await expect(analyseImage(Buffer.from('<html>hello</html>'))).rejects.toThrow(ImageRefused);
      await expect(analyseImage(Buffer.alloc(0))).rejects.toThrow(ImageRefused);
    });
  });
});

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const b of buf) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}
