import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

/** Settings of a nova-ts deployment. Defaults give the all-in-one cloud. */
export interface Config {
  dataDir: string;
  listenHost: string;
  listenPort: number;
  /** `sqlite:<path>` (default: <dataDir>/nova.db) or `postgres://…`. */
  databaseUrl: string;
  driver: 'fake' | 'qemu';
  /** Number of compute hosts in this process (fake driver); hosts are named host1..hostN. */
  fakeHosts: number;
  region: string;
  tokenTtlSec: number;
  /** Seconds without a heartbeat before a service is reported down (Nova's service_down_time; default 60). */
  serviceDownTimeSec?: number;
  /** Fake driver behaviour: per-operation delays (ms) and failure injection. */
  fake: FakeDriverConfig;
  qemu: QemuDriverConfig;
  scheduler: SchedulerConfig;
  compute: ComputeConfig;
  consoles: ConsoleConfig;
  /**
   * Serve the APIs and the console proxy over HTTPS with a certificate issued by the cloud's own
   * CA (<dataDir>/ca/ca.pem, named as cacert in clouds.yaml).
   */
  tls: boolean;
  /**
   * The API's base URL as clients and compute hosts reach it, when it is not the listener's own
   * (a load balancer in front of several API processes): written into the service catalog and
   * clouds.yaml. Default: `http(s)://<listenHost>:<port>`.
   */
  publicUrl?: string;
}

/** The console proxy (Nova's novncproxy and serialproxy: one listener serves both) and its tokens. */
export interface ConsoleConfig {
  listenHost: string;
  /** 0: any free port (tests). */
  listenPort: number;
  /** Seconds a console token stays valid (Nova's [consoleauth] token_ttl; default 600). */
  tokenTtlSec: number;
  /** The base URL users reach the proxy at, when it is not the listener's own address (e.g. behind a reverse proxy). */
  publicUrl?: string;
}

export interface FakeDriverConfig {
  /** Milliseconds each operation takes, e.g. { spawn: 50 }. */
  delays: Record<string, number>;
  /** Operations that fail: op -> probability in [0,1], e.g. { spawn: 0.1 }. */
  failures: Record<string, number>;
  /** Hosts whose spawn always fails (to exercise rescheduling). */
  failingHosts: string[];
  vcpus: number;
  memoryMb: number;
  diskGb: number;
}

export interface QemuDriverConfig {
  /** The QEMU binary (default qemu-system-x86_64 on PATH). */
  binary: string;
  /** kvm, tcg, or auto: KVM only when the CPU has vmx/svm and /dev/kvm opens. */
  accel: 'auto' | 'kvm' | 'tcg';
  /** Seconds a guest gets to power off on ACPI before it is terminated (Nova's shutdown_timeout). */
  shutdownTimeoutSec: number;
  /** The console log is rotated past this size (one previous file kept). */
  consoleLogCapBytes: number;
  /** Where the tiny-linux test guest image is built and cached (default <dataDir>/guest-image, or $NOVA_TS_GUEST_IMAGE_DIR). */
  guestImageDir: string;
}

export interface SchedulerConfig {
  /** Enabled filters by name, run in this order. */
  filters: string[];
  /** Enabled weighers by name, with their multipliers. */
  weighers: Record<string, number>;
  /** Claim one of the best N hosts at random (Nova's host_subset_size). */
  hostSubsetSize: number;
  maxAttempts: number;
  /** NumInstancesFilter: most instances on one host (Nova's max_instances_per_host). */
  maxInstancesPerHost: number;
  /** IoOpsFilter: most instances in I/O-heavy task states on one host (Nova's max_io_ops_per_host). */
  maxIoOpsPerHost: number;
  /** Seconds between audits of allocations against live instances (0 turns the audit off). */
  auditIntervalSec: number;
  /** ComputeFilter: seconds without a heartbeat after which a host is down (the deployment's service_down_time; default 60). */
  serviceDownTimeSec?: number;
}

export interface ComputeConfig {
  /** Seconds between power-state syncs. */
  powerSyncIntervalSec: number;
  /** Seconds between resource reports and service heartbeats. */
  reportIntervalSec: number;
  defaultAvailabilityZone: string;
  /** Inventory settings this host reports for its node (Nova's *_allocation_ratio, reserved_host_*). */
  cpuAllocationRatio: number;
  ramAllocationRatio: number;
  diskAllocationRatio: number;
  reservedHostCpus: number;
  reservedHostMemoryMb: number;
  reservedHostDiskMb: number;
  /**
   * Seconds a build may go without progress before the conductor puts it in ERROR (Nova's
   * instance_build_timeout; 0 turns the check off). Optional for configs made before it existed.
   */
  buildTimeoutSec?: number;
}

export const DEFAULT_PORT = 8774;
/** Nova's service_down_time default: seconds without a heartbeat after which a service is down. */
export const DEFAULT_SERVICE_DOWN_TIME_SEC = 60;
/** The console proxy's default port (Nova's novncproxy_port). */
export const DEFAULT_CONSOLE_PORT = 6080;
export const defaultDataDir = (): string => process.env.NOVA_TS_DATA_DIR ?? join(homedir(), '.nova-ts');

export function defaultConfig(over: Partial<Config> = {}): Config {
  const dataDir = resolve(over.dataDir ?? defaultDataDir());
  return {
    dataDir,
    listenHost: '127.0.0.1',
    listenPort: DEFAULT_PORT,
    databaseUrl: process.env.NOVA_TS_DATABASE_URL ?? `sqlite:${join(dataDir, 'nova.db')}`,
    driver: 'fake',
    fakeHosts: 1,
    region: 'RegionOne',
    tokenTtlSec: 3600,
    fake: { delays: {}, failures: {}, failingHosts: [], vcpus: 32, memoryMb: 131072, diskGb: 2048 },
    qemu: {
      binary: 'qemu-system-x86_64',
      accel: 'auto',
      shutdownTimeoutSec: 60,
      consoleLogCapBytes: 1048576,
      guestImageDir: process.env.NOVA_TS_GUEST_IMAGE_DIR ?? join(dataDir, 'guest-image'),
    },
    scheduler: {
      filters: [
        'AvailabilityZoneFilter', 'ComputeFilter', 'ResourceFilter', 'ComputeCapabilitiesFilter', 'ImagePropertiesFilter',
        'ServerGroupAntiAffinityFilter', 'ServerGroupAffinityFilter', 'SameHostFilter', 'DifferentHostFilter',
        'AggregateInstanceExtraSpecsFilter', 'AggregateMultiTenancyIsolation',
      ],
      weighers: { RAMWeigher: 1, CPUWeigher: 1, DiskWeigher: 1, ServerGroupSoftAffinityWeigher: 10, ServerGroupSoftAntiAffinityWeigher: 10, BuildFailureWeigher: 1e6, NumInstancesWeigher: 0 },
      hostSubsetSize: 1,
      maxAttempts: 3,
      maxInstancesPerHost: 50,
      maxIoOpsPerHost: 8,
      auditIntervalSec: 60,
    },
    compute: {
      powerSyncIntervalSec: 10,
      reportIntervalSec: 10,
      defaultAvailabilityZone: 'nova',
      cpuAllocationRatio: 4.0,
      ramAllocationRatio: 1.0,
      diskAllocationRatio: 1.0,
      reservedHostCpus: 0,
      reservedHostMemoryMb: 512,
      reservedHostDiskMb: 0,
      buildTimeoutSec: 180,
    },
    // An API on any free port (tests, side-by-side clouds) gets its console proxy on any free port too.
    consoles: { listenHost: '127.0.0.1', listenPort: over.listenPort === 0 ? 0 : DEFAULT_CONSOLE_PORT, tokenTtlSec: 600 },
    tls: false,
    ...over,
  };
}
