/**
 * tiny-linux, the test guest image of nova-ts: `ensureGuestImage` builds (or finds cached) its
 * kernel, initramfs and root disk; `buildImageCommand` is `nova-ts build-image`.
 */
export { ensureGuestImage, imageVersion, type EnsureGuestImageOptions, type GuestImageFiles, type GuestImageManifest } from './ensure.js';
export { buildImageCommand, defaultGuestImageCacheDir } from './cli.js';
