import { type Browser, chromium } from 'playwright-core';

export type { Browser, Page } from 'playwright-core';

export const CHROMIUM = process.env.OTA_CHROMIUM ?? '/usr/bin/chromium';

/**
 * Debian's headless Chromium driven by playwright-core (a dev dependency of the console, so
 * the root lock does not change): the console's browser tests import it from here.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // As root in a container Chromium's sandbox cannot start; the pages are our own.
    args: process.getuid?.() === 0 ? ['--no-sandbox'] : [],
  });
}
