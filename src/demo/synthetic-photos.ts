import sharp from 'sharp';

/**
 * Generated "photos" for the demo, the tests and the image bench (issue 20): a seeded scene —
 * a sky-to-ground gradient, a dozen coloured shapes, film grain — rendered by sharp. The same seed
 * is the same photo; `shot` > 0 is another photo of the same scene (the subjects moved, the camera
 * panned a little, other light), which a perceptual hash must NOT take for the same photo.
 */

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (r: () => number) =>
  '#' +
  [0, 1, 2]
    .map(() =>
      Math.floor(r() * 256)
        .toString(16)
        .padStart(2, '0'),
    )
    .join('');

export interface PhotoOptions {
  width?: number;
  height?: number;
  /** 0: the photo; 1, 2, …: other photos of the same scene. */
  shot?: number;
}

/** The SVG of a scene (seeded); rendered by `syntheticPhoto`. */
export function sceneSvg(seed: number, opts: PhotoOptions = {}): string {
  const w = opts.width ?? 1000;
  const h = opts.height ?? 700;
  const r = rng(seed);
  const shot = opts.shot ?? 0;
  const m = rng(seed * 7919 + shot * 104729);
  // Another shot: the camera pans by up to 12% and every subject moves on its own.
  const panX = shot ? (m() - 0.5) * 0.24 * w : 0;
  const panY = shot ? (m() - 0.5) * 0.12 * h : 0;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}">`,
    `<defs><linearGradient id="g" x1="0" y1="0" x2="${r().toFixed(2)}" y2="1"><stop offset="0" stop-color="${hex(r)}"/><stop offset="1" stop-color="${hex(r)}"/></linearGradient></defs>`,
    `<rect width="${w}" height="${h}" fill="url(#g)"/>`,
    `<g transform="translate(${panX.toFixed(1)} ${panY.toFixed(1)})">`,
  ];
  const count = 8 + Math.floor(r() * 8);
  for (let i = 0; i < count; i++) {
    const x = r() * w + (shot ? (m() - 0.5) * 0.5 * w : 0);
    const y = r() * h + (shot ? (m() - 0.5) * 0.5 * h : 0);
    const s = (0.05 + r() * 0.25) * w;
    const colour = hex(r);
    const kind = r();
    const op = (0.6 + r() * 0.4).toFixed(2);
    if (kind < 0.4)
      parts.push(`<ellipse cx="${x}" cy="${y}" rx="${s / 2}" ry="${(s / 2) * (0.5 + r())}" fill="${colour}" opacity="${op}"/>`);
    else if (kind < 0.75)
      parts.push(
        `<rect x="${x - s / 2}" y="${y - s / 2}" width="${s}" height="${s * (0.4 + r())}" fill="${colour}" opacity="${op}" transform="rotate(${(r() * 60 - 30).toFixed(1)} ${x} ${y})"/>`,
      );
    else
      parts.push(
        `<polygon points="${x},${y - s / 2} ${x + s / 2},${y + s / 2} ${x - s / 2},${y + s / 2}" fill="${colour}" opacity="${op}"/>`,
      );
  }
  parts.push('</g>');
  if (shot)
    parts.push(`<rect width="${w}" height="${h}" fill="${m() < 0.5 ? '#000' : '#fff'}" opacity="${(0.05 + m() * 0.15).toFixed(2)}"/>`);
  parts.push('</svg>');
  return parts.join('');
}

/** A generated photo as JPEG (default) or PNG, with film grain so it compresses like a photo. */
export async function syntheticPhoto(seed: number, opts: PhotoOptions & { format?: 'jpeg' | 'png' } = {}): Promise<Buffer> {
  const { data, info } = await sharp(Buffer.from(sceneSvg(seed, opts)))
    .removeAlpha()
    .raw()
    .toBuffer({ resolveWithObject: true });
  const r = rng(seed ^ 0x5bd1e995);
  for (let i = 0; i < data.length; i++) {
    const v = data[i] + Math.floor((r() - 0.5) * 24);
    data[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  const img = sharp(data, { raw: { width: info.width, height: info.height, channels: info.channels } });
  return opts.format === 'png' ? img.png().toBuffer() : img.jpeg({ quality: 88 }).toBuffer();
}

/** The transformations a republished copy goes through; each must still match the original. */
export const TRANSFORMS: Record<string, (buf: Buffer) => Promise<Buffer>> = {
  resized: (b) => sharp(b).resize(480).jpeg({ quality: 85 }).toBuffer(),
  recompressed: (b) => sharp(b).jpeg({ quality: 40 }).toBuffer(),
  cropped5: async (b) => {
    const { width = 0, height = 0 } = await sharp(b).metadata();
    const dx = Math.round(width * 0.025);
    const dy = Math.round(height * 0.025);
    return sharp(b)
      .extract({ left: dx, top: dy, width: width - 2 * dx, height: height - 2 * dy })
      .jpeg({ quality: 85 })
      .toBuffer();
  },
  png: (b) => sharp(b).png().toBuffer(),
  brightened: (b) => sharp(b).modulate({ brightness: 1.1 }).jpeg({ quality: 85 }).toBuffer(),
};
