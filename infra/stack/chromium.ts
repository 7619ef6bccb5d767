/**
 * Headless Chromium for the browser tests of the report page: Debian's `chromium` package, found
 * where it installs itself, and installed with apt-get when it is missing (as root, as on CI and
 * in the test containers). Playwright's own browser downloads are not used: the package is what a
 * Debian machine keeps up to date.
 */
import fs from 'node:fs'
import { run } from './processes.ts'

/** Where Debian's (and Ubuntu's) Chromium packages put the browser. */
export const CHROMIUM_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser'] as const

/** The Chromium executable on this machine, or null. */
export function findChromium(): string | null {
  return CHROMIUM_PATHS.find((file) => fs.existsSync(file)) ?? null
}

/** Thrown when Chromium is missing and this process cannot install it. */
export class ChromiumMissingError extends Error {
  readonly code = 'CHROMIUM_MISSING'
}

/**
 * The Chromium executable, installing Debian's `chromium` package first when there is none.
 * `say` is told what is done, since the first install takes a minute or two.
 */
export async function ensureChromium(say: (line: string) => void): Promise<string> {
  const found = findChromium()
  if (found) return found
  const apt = fs.existsSync('/usr/bin/apt-get')
  if (!apt || process.getuid?.() !== 0) {
    throw new ChromiumMissingError(
      `no Chromium at ${CHROMIUM_PATHS.join(' or ')}, and this process cannot install it ` +
        `(${apt ? 'not root' : 'no apt-get'}): install the "chromium" package, e.g. sudo apt-get install -y chromium`,
    )
  }
  say('chromium: not installed; apt-get update && apt-get install -y chromium')
  // `env` sets the one variable apt's debconf needs to ask nothing, without reading ours.
  await run('env', ['DEBIAN_FRONTEND=noninteractive', 'apt-get', 'update', '-q'])
  await run('env', ['DEBIAN_FRONTEND=noninteractive', 'apt-get', 'install', '-y', '-q', 'chromium'])
  const installed = findChromium()
  if (!installed) {
    throw new ChromiumMissingError(`apt-get installed chromium, but not at ${CHROMIUM_PATHS.join(' or ')}`)
  }
  say(`chromium: installed at ${installed}`)
  return installed
}
