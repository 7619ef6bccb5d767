// How `bin/dugout.js` runs the TypeScript sources (services/runtime/compiled-sources.mjs): a bundle
// built on first use, reused while its sources are unchanged, rebuilt when one changes, with each
// module's `import.meta.url` still its source file's.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
// @ts-expect-error: a JavaScript module (it runs before any TypeScript can), typed by its JSDoc.
import { compiledEntry } from '../../services/runtime/compiled-sources.mjs'

let root: string
let cacheDir: string

function write(file: string, text: string) {
  fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true })
  fs.writeFileSync(path.join(root, file), text)
}

beforeEach(() => {
  root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'dugout-compiled-')))
  cacheDir = path.join(root, 'cache')
  write('app/main.ts', "import { greeting } from './greeting.ts'\nexport const here: string = import.meta.url\nexport const hello = (): string => greeting\nexport const later = async (): Promise<number> => (await import('./later/lazy.ts')).answer\n")
  write('app/greeting.ts', "export const greeting: string = 'hello'\n")
  write('app/later/lazy.ts', 'export const answer: number = 42\nexport const here: string = import.meta.url\n')
})

afterEach(() => fs.rmSync(root, { recursive: true, force: true }))

const compile = (): Promise<string> => compiledEntry('app/main.ts', { root, cacheDir })

describe('the compiled sources', () => {
  it("run as the sources do, each module's import.meta.url its source file's", async () => {
    const entry = await import(await compile())
    expect(entry.hello()).toBe('hello')
    expect(entry.here).toBe(pathToFileURL(path.join(root, 'app/main.ts')).href)
    expect(await entry.later()).toBe(42)
    // The lazily imported module is a chunk of its own, loaded only when asked.
    const chunks = fs.readdirSync(path.dirname(new URL(await compile()).pathname)).filter((f) => f.endsWith('.js'))
    expect(chunks.length).toBeGreaterThan(1)
  })

  it('are reused while no source changes, and built again when one does', async () => {
    const first = await compile()
    expect(await compile()).toBe(first)

    write('app/greeting.ts', "export const greeting: string = 'hello again'\n")
    const second = await compile()
    expect(second).not.toBe(first)
    expect((await import(second)).hello()).toBe('hello again')
    expect(await compile()).toBe(second)
  })

  it('name the file and line of a source that does not compile, and keep the last good bundle', async () => {
    const good = await compile()
    write('app/greeting.ts', "export const greeting: string = 'unterminated\n")
    await expect(compile()).rejects.toThrow(/app\/greeting\.ts:1:\d+: ERROR: Unterminated string literal/)
    expect(fs.existsSync(new URL(good))).toBe(true)
  })
})
