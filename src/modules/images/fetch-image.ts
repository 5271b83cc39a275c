import { FeedFetchError, fetchFeed } from '../feeds';
import { analyseImage, ImageFacts, ImageRefused } from './perceptual-hash';

/** Limits of an image download: the feeds' SSRF-guarded fetcher with tighter caps. */
export const IMAGE_LIMITS = { timeoutMs: 10_000, maxBytes: 10 * 1024 * 1024, maxRedirects: 3 };

/** Content types we accept; SVG (it can carry script) and anything not an image are refused. */
const IMAGE_TYPE = /^image\/(jpeg|pjpeg|png|webp|gif|avif|heic|heif)\b/i;

export interface FetchImageOptions {
  allowPrivate: boolean;
  privateHosts?: readonly string[];
  userAgent?: string;
  limits?: Partial<typeof IMAGE_LIMITS>;
}

/**
 * Downloads and analyses one image: http(s) only, no private address (by literal, DNS answer or
 * redirect), a deadline, a size cap, an image content type, then a header check (format, pixel
 * count) before anything is decoded (sharp's `limitInputPixels`). A refusal is an `ImageRefused`
 * (kept as `failed`); a network failure a `FeedFetchError` (retried).
 */
export async function fetchImage(url: string, opts: FetchImageOptions): Promise<ImageFacts> {
  let fetched;
  try {
    fetched = await fetchFeed(url, {
      allowPrivate: opts.allowPrivate,
      privateHosts: opts.privateHosts,
      userAgent: opts.userAgent,
      ...IMAGE_LIMITS,
      ...opts.limits,
    });
  } catch (e) {
    if (e instanceof FeedFetchError && /refused|too large|only http|not a valid URL|redirect/.test(e.message)) {
      throw new ImageRefused(e.message.replace(/the feed/g, 'the image'));
    }
    throw e;
  }
  if (fetched.notModified) throw new ImageRefused('the server answered 304 to an unconditional request');
  const type = (fetched.contentType ?? '').trim();
  if (!IMAGE_TYPE.test(type)) throw new ImageRefused(`content type ${type.slice(0, 100) || '(none)'} is not an accepted image type`);
  return analyseImage(fetched.body);
}
