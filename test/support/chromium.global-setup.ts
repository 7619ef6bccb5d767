// Installs headless Chromium (Debian's package) before the end-to-end tier, for the browser test
// of the report page; a machine that has it already skips this in a millisecond.
import { ensureChromium } from '../../infra/stack/chromium.ts'

export default async function setup(): Promise<void> {
  await ensureChromium((line) => process.stderr.write(`[chromium] ${line}\n`))
}
