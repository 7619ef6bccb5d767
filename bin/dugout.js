#!/usr/bin/env node
// The `dugout` command. Dugout ships TypeScript sources and runs them through tsx's loader, so
// there is no build step between a checkout and a working CLI.
import { register } from 'tsx/esm/api'

register()
const { main } = await import('../services/cli/main.ts')
await main()
