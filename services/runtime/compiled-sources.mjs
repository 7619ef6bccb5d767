// @ts-check
/**
 * The TypeScript sources, compiled once and cached: `bin/dugout.js` runs the CLI from an esbuild
 * bundle of them, built on first use and again whenever a source it was built from changes, so a
 * checkout still runs with no build step. Node 20 runs a loader's hooks (tsx's) on a thread of
 * their own, with a V8 heap of their own, for the life of the process: the bundle saves that
 * thread, about 20 MiB of a busy ingest process and 35 of an idle one (docs/scaling.md,
 * "Memory"), and the compiling of every module at each start.
 *
 * The bundle holds only the project's modules (packages are imported from node_modules as they
 * are), keeps each lazily imported service in a chunk of its own, and resolves what a module finds
 * next to itself (`import.meta.url`: migrations, the report page, the workflows Temporal bundles)
 * from that module's own place in the source tree. Stack traces point at the sources.
 */
import { createHash } from 'node:crypto'
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import process from 'node:process'
import { fileURLToPath, pathToFileURL } from 'node:url'

const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')

/** Changes when the way a bundle is built changes, so that an older one is not reused. */
const FORMAT = 1

/** Bundles no process started in the last day may still be loading chunks from. */
const STALE_AFTER_MS = 24 * 60 * 60 * 1000

/**
 * The URL of the compiled `entry` (a path from the project root), built now if the cached one is
 * missing or older than one of its sources.
 *
 * @param {string} entry
 * @param {{ cacheDir?: string, root?: string }} [options]
 * @returns {Promise<string>}
 */
export async function compiledEntry(entry, options = {}) {
  const root = options.root ?? PROJECT_ROOT
  if (options.cacheDir !== undefined) return compiledIn(root, options.cacheDir, entry)
  try {
    return await compiledIn(root, path.join(root, 'node_modules/.cache/dugout'), entry)
  } catch (error) {
    // An install this user may not write to (a container's USER, a system-wide checkout).
    const code = /** @type {NodeJS.ErrnoException} */ (error).code
    if (code !== 'EACCES' && code !== 'EPERM' && code !== 'EROFS') throw error
    const checkout = createHash('sha256').update(root).digest('hex').slice(0, 12)
    return compiledIn(root, path.join(os.tmpdir(), `dugout-compiled-${os.userInfo().uid}-${checkout}`), entry)
  }
}

/** @param {string} root @param {string} cacheDir @param {string} entry */
async function compiledIn(root, cacheDir, entry) {
  const manifestPath = path.join(cacheDir, `${entry.replaceAll('/', '_')}.json`)
  const manifest = await readManifest(manifestPath)
  if (manifest && manifest.format === FORMAT && (await isFresh(root, cacheDir, manifest))) {
    return pathToFileURL(path.join(cacheDir, manifest.dir, manifest.output)).href
  }
  return pathToFileURL(await build(root, cacheDir, entry, manifestPath)).href
}

/**
 * @typedef {{ format: number, dir: string, output: string, inputs: Record<string, [number, number]> }} Manifest
 *   `inputs`: each source's [mtime in ms, size] as it was built from, by path from the root.
 */

/** @param {string} file @returns {Promise<Manifest | undefined>} */
async function readManifest(file) {
  try {
    return JSON.parse(await readFile(file, 'utf8'))
  } catch {
    return undefined
  }
}

/** @param {string} root @param {string} cacheDir @param {Manifest} manifest */
async function isFresh(root, cacheDir, manifest) {
  try {
    await stat(path.join(cacheDir, manifest.dir, manifest.output))
    const inputs = Object.entries(manifest.inputs)
    const stats = await Promise.all(inputs.map(([file]) => stat(path.join(root, file))))
    return inputs.every(([, [mtime, size]], i) => stats[i]?.mtimeMs === mtime && stats[i]?.size === size)
  } catch {
    return false
  }
}

/**
 * Builds into a folder of its own and then points the manifest at it (written whole, by rename):
 * processes starting at once may each build, and each loads a complete bundle.
 *
 * @param {string} root @param {string} cacheDir @param {string} entry @param {string} manifestPath
 */
async function build(root, cacheDir, entry, manifestPath) {
  const { build: esbuild } = await import('esbuild')
  const dir = `${path.basename(entry, path.extname(entry))}-${Date.now().toString(36)}-${process.pid}`
  const outdir = path.join(cacheDir, dir)
  await mkdir(cacheDir, { recursive: true })
  await pruneStale(cacheDir)
  const result = await esbuild({
    absWorkingDir: root,
    entryPoints: [entry],
    outdir,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    keepNames: true,
    sourcemap: 'linked',
    sourcesContent: false,
    metafile: true,
    logLevel: 'silent',
    plugins: [sourceLocations(root)],
  })
  const output = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint === entry)?.[0]
  if (output === undefined) throw new Error(`esbuild wrote no output for ${entry}`)
  const inputs = Object.fromEntries(
    await Promise.all(
      Object.keys(result.metafile.inputs).map(async (file) => {
        const { mtimeMs, size } = await stat(path.join(root, file))
        return /** @type {const} */ ([file, [mtimeMs, size]])
      }),
    ),
  )
  /** @type {Manifest} */
  const manifest = { format: FORMAT, dir, output: path.relative(outdir, path.join(root, output)), inputs }
  const partial = `${manifestPath}.${process.pid}`
  await writeFile(partial, JSON.stringify(manifest))
  await rename(partial, manifestPath)
  return path.join(outdir, manifest.output)
}

/**
 * Each module's `import.meta.url` as the source file's own URL, not the bundle's: what a module
 * reads next to itself stays where it is in the tree.
 *
 * @param {string} root
 * @returns {import('esbuild').Plugin}
 */
function sourceLocations(root) {
  return {
    name: 'dugout-source-locations',
    setup(build) {
      build.onLoad({ filter: /\.[cm]?[jt]s$/ }, async (args) => {
        if (!args.path.startsWith(root + path.sep) || args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined
        const text = await readFile(args.path, 'utf8')
        return {
          contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)),
          loader: /\.[cm]?ts$/.test(args.path) ? 'ts' : 'js',
        }
      })
    },
  }
}

/** Removes bundles older than a day (a running process may still load a chunk of a newer one). */
/** @param {string} cacheDir */
async function pruneStale(cacheDir) {
  const now = Date.now()
  for (const entry of await readdir(cacheDir, { withFileTypes: true })) {
    if (!entry.isDirectory()) continue
    const folder = path.join(cacheDir, entry.name)
    const { mtimeMs } = await stat(folder).catch(() => ({ mtimeMs: now }))
    if (now - mtimeMs > STALE_AFTER_MS) await rm(folder, { recursive: true, force: true })
  }
}
