import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/** Debian's Chromium: CI installs it (scripts/dev/up.sh). */
export const CHROMIUM = '/usr/bin/chromium';

/**
 * Whether the browser tests can run; without Chromium a laptop skips them
 * loudly rather than failing (CI always has it).
 */
export function chromiumFor(testFile: string): boolean {
  const have = existsSync(CHROMIUM);
  if (!have) console.warn(`SKIPPED ${testFile}: ${CHROMIUM} is missing (apt-get install -y chromium)`);
  return have;
}

/** Launch options beyond the headless, sandbox-free, offline defaults: the screen, touch, JavaScript. */
export type BrowserOptions = Omit<Parameters<typeof chromium.launchPersistentContext>[1], 'executablePath' | 'headless' | 'args'>;

/**
 * Headless Chromium in a profile of its own, as root in a container: no
 * sandbox, no GPU, and none of the background calls home (updates, sync,
 * QUIC) that would reach the network. `close()` removes the profile too.
 */
export async function launchChromium(options: BrowserOptions): Promise<{ context: BrowserContext; close(): Promise<void> }> {
  const profile = mkdtempSync(join(tmpdir(), 'trace-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    ...options,
  });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
