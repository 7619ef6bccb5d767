#!/usr/bin/env node
// The `dugout` command. Dugout ships TypeScript sources: they run from a bundle esbuild compiles on
// first use and again when a source changes (services/runtime/compiled-sources.mjs), so there is
// no build step between a checkout and a working CLI, and no loader thread in every process.
import { compiledEntry } from '../services/runtime/compiled-sources.mjs'

process.setSourceMapsEnabled(true)
const compiled = await compiledEntry('services/cli/main.ts').catch((error) => {
  const what = Array.isArray(error.errors) ? 'the sources do not compile' : 'could not compile the sources'
  process.stderr.write(`dugout: ${what}: ${error.message}\n`)
  process.exit(1)
})
const { main } = await import(compiled)
await main()
