/** The metadata service (API side): the unix-socket HTTP server and its instance lookup. */
export { createMetadataServer, type MetadataServer, type MetadataServerDeps } from './server.js';
export { lookupByFixedIp, type FixedIpLookupDeps } from './lookup.js';
