import type { Migration } from '../migrate.js';
import { identity001 } from './001-identity.js';
import { image002 } from './002-image.js';
import { compute003 } from './003-compute.js';
import { image005 } from './005-image-extra.js';
import { compute007 } from './007-server-groups.js';
import { compute008 } from './008-quota-usage-index.js';
import { network009 } from './009-network.js';
import { network010 } from './010-port-origin.js';
import { compute011 } from './011-scheduling.js';
import { volume012 } from './012-volume.js';
import { volume013 } from './013-volume-transfers.js';
import { console014 } from './014-consoles-certificates.js';

/** Every migration, in the order applied. Append only; never edit one that has shipped. */
export const migrations: readonly Migration[] = [identity001, image002, compute003, image005, compute007, compute008, network009, network010, compute011, volume012, volume013, console014];
