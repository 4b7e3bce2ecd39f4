import type { FakeDriverConfig } from '../../config.js';


export type FakeDriverOptions = FakeDriverConfig & { host: string };

/** Placeholder until the fake driver lands. */
export class FakeDriver {
  constructor(readonly opts: FakeDriverOptions) {}
}
