// Headless Chromium for the browser tests and bench/browser.mjs: Debian's
// chromium (scripts/setup-browser.sh) driven by playwright-core, with the
// launch options that work on these machines (never `playwright install`).

import fs from 'node:fs';

export const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

const playwright = await import('playwright-core').catch(() => null);

/** Why Chromium cannot be driven here, or null when it can. */
export const missing = !fs.existsSync(chromiumPath)
  ? `no Chromium at ${chromiumPath} (apt-get install chromium, or set CHROMIUM)`
  : !playwright
    ? 'playwright-core is not installed (npm ci)'
    : null;

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

/** A browser context with its own profile folder; `options.args` add to the defaults. */
export function launch(profile, { args = [], ...options } = {}) {
  return playwright.chromium.launchPersistentContext(profile, {
    executablePath: chromiumPath,
    headless: true,
    ...options,
    args: [...ARGS, ...args],
  });
}
