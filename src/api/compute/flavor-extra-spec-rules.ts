/**
 * Validation of well-known flavor extra specs (Compute API 2.86). Keys in a namespace nova-ts
 * knows (hw:, hw_rng:, hw_video:, quota:, os:, trait:, resources:) must be recognised and their
 * values well formed; keys in other namespaces are accepted untouched, as Nova does.
 */
import { invalid } from '../../errors.js';
import { own } from '../../util/own.js';

type Rule = { enum: readonly string[] } | { int: [number, number] } | { bool: true } | { pattern: RegExp };

const BOOL: Rule = { bool: true };
const RULES: Record<string, Rule> = {
  'hw:cpu_policy': { enum: ['dedicated', 'shared', 'mixed'] },
  'hw:cpu_thread_policy': { enum: ['prefer', 'isolate', 'require'] },
  'hw:emulator_threads_policy': { enum: ['share', 'isolate'] },
  'hw:cpu_sockets': { int: [1, 1024] },
  'hw:cpu_cores': { int: [1, 1024] },
  'hw:cpu_threads': { int: [1, 1024] },
  'hw:cpu_max_sockets': { int: [1, 1024] },
  'hw:cpu_max_cores': { int: [1, 1024] },
  'hw:cpu_max_threads': { int: [1, 1024] },
  'hw:cpu_realtime': BOOL,
  'hw:cpu_realtime_mask': { pattern: /^\^?\d+(-\d+)?(,\^?\d+(-\d+)?)*$/ },
  'hw:cpu_dedicated_mask': { pattern: /^\^?\d+(-\d+)?(,\^?\d+(-\d+)?)*$/ },
  'hw:numa_nodes': { int: [1, 1024] },
  'hw:mem_page_size': { pattern: /^(large|small|any|\d+([kKmMgGtT]i?[bB]?)?)$/ },
  'hw:watchdog_action': { enum: ['none', 'pause', 'poweroff', 'reset', 'disabled'] },
  'hw:boot_menu': BOOL,
  'hw:pmu': BOOL,
  'hw:vif_multiqueue_enabled': BOOL,
  'hw:hide_hypervisor_id': BOOL,
  'hw:mem_encryption': BOOL,
  'hw:serial_port_count': { int: [0, 16] },
  'hw:machine_type': { pattern: /^[\w.,=-]+$/ },
  'hw:tpm_version': { enum: ['1.2', '2.0'] },
  'hw:tpm_model': { enum: ['tpm-tis', 'tpm-crb'] },
  'hw:pci_numa_affinity_policy': { enum: ['required', 'preferred', 'legacy', 'socket'] },
  'hw:locked_memory': BOOL,
  'hw:virtio_packed_ring': BOOL,
  'hw:maxphysaddr_mode': { enum: ['emulate', 'passthrough'] },
  'hw:maxphysaddr_bits': { int: [1, 128] },
  'hw_rng:allowed': BOOL,
  'hw_rng:rate_bytes': { int: [0, 2147483647] },
  'hw_rng:rate_period': { int: [0, 2147483647] },
  'hw_video:ram_max_mb': { int: [0, 2147483647] },
  'os:secure_boot': { enum: ['required', 'disabled', 'optional'] },
};

/** Namespaces whose keys must be known; `quota:`, `trait:` and `resources:` have own rules below. */
const STRICT = ['hw:', 'hw_rng:', 'hw_video:', 'os:'];

const failed = (reason: string) => invalid(`Validation failed; ${reason}`);

/** Throws Invalid when a well-known extra spec has a malformed value or an unknown key. */
export function checkExtraSpec(key: string, value: string): void {
  const rule = own(RULES, key);
  if (!rule) {
    if (key.startsWith('trait:') || key.startsWith('trait')) {
      if (!['required', 'forbidden'].includes(value)) throw failed(`extra spec '${key}' must be one of 'required', 'forbidden'; got '${value}'.`);
      return;
    }
    if (/^resources\d*:/.test(key)) {
      if (!/^\d+$/.test(value)) throw failed(`extra spec '${key}' must be a non-negative integer; got '${value}'.`);
      return;
    }
    if (key.startsWith('quota:')) {
      if (!/^-?\d+$/.test(value)) throw failed(`extra spec '${key}' must be an integer; got '${value}'.`);
      return;
    }
    if (STRICT.some((ns) => key.startsWith(ns))) throw failed(`extra spec '${key}' is not a recognised extra spec.`);
    return;
  }
  if ('enum' in rule && !rule.enum.includes(value))
    throw failed(`extra spec '${key}' must be one of ${rule.enum.map((v) => `'${v}'`).join(', ')}; got '${value}'.`);
  if ('bool' in rule && !/^(true|false|yes|no|1|0|on|off|t|f|y|n)$/i.test(value))
    throw failed(`extra spec '${key}' must be a boolean; got '${value}'.`);
  if ('int' in rule) {
    const n = /^-?\d+$/.test(value) ? Number(value) : NaN;
    if (!(n >= rule.int[0] && n <= rule.int[1]))
      throw failed(`extra spec '${key}' must be an integer between ${rule.int[0]} and ${rule.int[1]}; got '${value}'.`);
  }
  if ('pattern' in rule && !rule.pattern.test(value)) throw failed(`extra spec '${key}' has an invalid value '${value}'.`);
}
