/**
 * Headless Chromium for the browser tests: Debian's chromium (installed by `npm test`'s system
 * packages step) driven by playwright-core. The flags keep Chromium off the network: this
 * machine's closed network refuses its background connections.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.NOVA_TS_CHROMIUM ?? '/usr/bin/chromium';

const FLAGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Why browser tests cannot run here, or false when they can. */
export function browserSkipReason(): string | false {
  return existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (Debian package chromium)`;
}

/** A fresh headless browser (its own temporary profile); close it when done. */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
}
