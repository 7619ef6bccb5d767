/** The services a `dugout run` process can host, by name. */
import type { ServiceName, ServiceStarter } from './service-host.ts'

export const SERVICE_STARTERS: Partial<Record<ServiceName, ServiceStarter>> = {}
