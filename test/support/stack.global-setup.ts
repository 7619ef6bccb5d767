// Brings the real local stack (Kafka, Temporal) up before the integration and end-to-end tiers.
// Idempotent: a stack that is already up is reused within seconds.
import { loadConfig } from '../../schemas/config.schema.ts'
import { stackUp } from '../../infra/stack/local-stack.ts'

export default async function setup(): Promise<void> {
  await stackUp(loadConfig(process.env), (line) => process.stderr.write(`[stack] ${line}\n`))
}
