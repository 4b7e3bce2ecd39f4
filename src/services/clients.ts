/**
 * The service clients a compute host and a network agent use besides the conductor: image
 * data and metadata, ports, volumes, and the host's desired network state. The all-in-one
 * hands in the in-process ones (they touch the DB and the image files directly); a split
 * deployment hands in remote ones (src/rpc/service-clients.ts, served by the conductor
 * processes), so that a compute process never has DB settings.
 */
export type { ServiceClients } from '../rpc/service-clients.js';
