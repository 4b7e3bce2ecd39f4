/**
 * Which quota resources the Compute API shows, per microversion, and the request schema for
 * updating them. The network quotas (nova-network era) are shown as -1 until they were dropped.
 */
import type { Microversion } from '../../http/microversion.js';
import { MAX_INT, booleanLike } from './flavor-schemas.js';

export const NETWORK_RESOURCES = ['fixed_ips', 'floating_ips', 'security_group_rules', 'security_groups'];
export const INJECTED_RESOURCES = ['injected_file_content_bytes', 'injected_file_path_bytes', 'injected_files'];
const CORE = ['cores', 'instances', 'key_pairs', 'metadata_items', 'ram'];
const GROUPS = ['server_group_members', 'server_groups'];

/** os-quota-sets resources: network ones until 2.36, injected files until 2.57. */
export function quotaSetResources(mv: Microversion): string[] {
  const out = [...CORE, ...GROUPS];
  if (!mv.atLeast('2.36')) out.push(...NETWORK_RESOURCES);
  if (!mv.atLeast('2.57')) out.push(...INJECTED_RESOURCES);
  return out.sort();
}

/** os-quota-class-sets resources: server groups appear and network ones go at 2.50; injected files go at 2.57. */
export function quotaClassResources(mv: Microversion): string[] {
  const out = [...CORE];
  if (mv.atLeast('2.50')) out.push(...GROUPS);
  else out.push(...NETWORK_RESOURCES);
  if (!mv.atLeast('2.57')) out.push(...INJECTED_RESOURCES);
  return out.sort();
}

const limitValue = { type: ['integer', 'string'], pattern: '^-?[0-9]+$', minimum: -1, maximum: MAX_INT };

/** `{<wrapper>: {resource: int, force?: bool}}`, unknown resources rejected. */
export function quotaUpdateSchema(wrapper: string, resources: string[], withForce: boolean) {
  const props: Record<string, unknown> = Object.fromEntries(resources.map((r) => [r, limitValue]));
  if (withForce) props.force = booleanLike;
  return {
    type: 'object',
    properties: { [wrapper]: { type: 'object', properties: props, additionalProperties: false } },
    required: [wrapper],
    additionalProperties: false,
  };
}

/** A limit value as given (int or int string) as a number; -1 or more (the schema checked that). */
export function limitOf(v: number | string): number {
  return typeof v === 'number' ? v : Number(v);
}
