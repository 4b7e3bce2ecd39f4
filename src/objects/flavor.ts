/** The flavor as recorded on an instance at build (and resize) time; plain JSON, safe on the bus. */
export interface FlavorSnapshot {
  id: number;
  flavorid: string;
  name: string;
  memory_mb: number;
  vcpus: number;
  root_gb: number;
  ephemeral_gb: number;
  swap: number;
  rxtx_factor: number;
  is_public: boolean;
  description: string | null;
  extra_specs: Record<string, string>;
}
