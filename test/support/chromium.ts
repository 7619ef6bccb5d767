/** The browser of the browser tests: the Chromium the e2e tier's global set-up made sure of. */
import { chromium, type Browser } from 'playwright-core'
import { CHROMIUM_PATHS, findChromium } from '../../infra/stack/chromium.ts'

export function chromiumPath(): string {
  const found = findChromium()
  if (!found) {
    throw new Error(
      `no Chromium at ${CHROMIUM_PATHS.join(' or ')}: the e2e tier's global set-up ` +
        '(test/support/chromium.global-setup.ts) installs it; run the test with vitest --project e2e',
    )
  }
  return found
}

/** A headless Chromium; the caller closes it. */
export function launchChromium(): Promise<Browser> {
  // --no-sandbox: tests run as root in containers, where Chromium's sandbox cannot start.
  return chromium.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox'] })
}
