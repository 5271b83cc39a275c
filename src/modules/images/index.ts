/**
 * Images (SPEC §19): the perceptual hash, the SSRF-guarded image download, and the job that hashes
 * imported images and removes the ones the staydown bank knows. The registry rows (`item_images`)
 * belong to the items module, the image fingerprints to staydown; this module is their worker.
 */
export { analyseImage, dHash, hamming, ImageRefused, MAX_IMAGE_PIXELS, pHash, pHashOfPixels } from './perceptual-hash';
export type { ImageFacts } from './perceptual-hash';
export { fetchImage, IMAGE_LIMITS } from './fetch-image';
export type { FetchImageOptions } from './fetch-image';
export { hashPendingImages, MAX_IMAGE_ATTEMPTS, recordImageFacts } from './hash-images';
export type { ImageDeps } from './hash-images';
