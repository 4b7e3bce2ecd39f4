import type { MountFn } from './common.js';

/** Placeholder: routes of this resource are not written yet. */
export const mountServerMetadata: MountFn = () => undefined;
