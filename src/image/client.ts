import type { ImageMeta } from '../virt/driver.js';

/**
 * What compute hosts and the conductor need from the image service. All-in-one uses the
 * in-process implementation; separate hosts will use one over the Image API.
 */
export interface ImageClient {
  /** Image metadata by id regardless of owner (service access); NotFound when missing or deleted. */
  get(id: string): Promise<ImageMeta>;
  /**
   * Whether the image is visible to a project (public, community, owned, or shared with it): what
   * a user may build a volume or server from. False for a missing image.
   */
  visibleTo(id: string, projectId: string): Promise<boolean>;
  /** Path of the active image's data file on this machine (in-process only) or a download. */
  dataPath(id: string): Promise<string>;
  /** Uploads a file into a queued image and makes it active (snapshots). */
  uploadFile(id: string, path: string, format: { disk_format: string; container_format: string }): Promise<void>;
  /** Marks a queued image as failed and removes it (snapshot that did not complete). */
  abandon(id: string): Promise<void>;
  /** Deletes an image whatever its status (a shelved server's snapshot once unshelved); gone already: no-op. */
  remove?(id: string): Promise<void>;
}
