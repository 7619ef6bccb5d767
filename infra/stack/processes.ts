/**
 * Background processes of the local stack: started detached with their output in a log file and
 * their pid in a pid file, so that `down` stops exactly what `up` started and nothing else.
 */
import { spawn, execFile } from 'node:child_process'
import { promisify } from 'node:util'
import fs from 'node:fs'
import path from 'node:path'
import net from 'node:net'

const execFileAsync = promisify(execFile)

export interface ManagedProcess {
  name: string
  pid: number
  /** A string the process's command line must contain: guards against a recycled pid. */
  marker: string
  startedAt: string
}

export interface ProcessPaths {
  runDir: string
  logDir: string
}

export function pidFile(paths: ProcessPaths, name: string): string {
  return path.join(paths.runDir, `${name}.pid.json`)
}

export function logFile(paths: ProcessPaths, name: string): string {
  return path.join(paths.logDir, `${name}.log`)
}

/** The command line of a live process, or undefined when there is none with that pid. */
function commandLine(pid: number): string | undefined {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')
  } catch {
    try {
      process.kill(pid, 0)
      return ''
    } catch {
      return undefined
    }
  }
}

/** The recorded process when it is still running as recorded, else undefined. */
export function runningProcess(paths: ProcessPaths, name: string): ManagedProcess | undefined {
  let recorded: ManagedProcess
  try {
    recorded = JSON.parse(fs.readFileSync(pidFile(paths, name), 'utf8')) as ManagedProcess
  } catch {
    return undefined
  }
  const cmd = commandLine(recorded.pid)
  if (cmd === undefined || !cmd.includes(recorded.marker)) return undefined
  return recorded
}

export function startDetached(
  paths: ProcessPaths,
  name: string,
  command: string,
  args: string[],
  options: { marker: string; env?: NodeJS.ProcessEnv; cwd?: string },
): ManagedProcess {
  fs.mkdirSync(paths.runDir, { recursive: true })
  fs.mkdirSync(paths.logDir, { recursive: true })
  const out = fs.openSync(logFile(paths, name), 'a')
  fs.writeSync(out, `\n--- ${new Date().toISOString()} starting ${name}: ${command} ${args.join(' ')}\n`)
  // detached: the process leads its own group, so it outlives this CLI and `down` can signal the
  // whole group (a JVM or a CLI may have children).
  const child = spawn(command, args, {
    detached: true,
    stdio: ['ignore', out, out],
    env: options.env,
    cwd: options.cwd,
  })
  fs.closeSync(out)
  if (child.pid === undefined) throw new Error(`could not start ${name} (${command})`)
  child.unref()
  const managed: ManagedProcess = { name, pid: child.pid, marker: options.marker, startedAt: new Date().toISOString() }
  fs.writeFileSync(pidFile(paths, name), JSON.stringify(managed))
  return managed
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    try {
      process.kill(pid, signal)
    } catch {
      // already gone
    }
  }
}

/** Stops a recorded process (TERM, then KILL after the grace period). Returns whether one ran. */
export async function stopProcess(paths: ProcessPaths, name: string, graceMs = 15_000): Promise<boolean> {
  const proc = runningProcess(paths, name)
  if (proc === undefined) {
    fs.rmSync(pidFile(paths, name), { force: true })
    return false
  }
  signalGroup(proc.pid, 'SIGTERM')
  const deadline = Date.now() + graceMs
  while (Date.now() < deadline && runningProcess(paths, name) !== undefined) await sleep(100)
  if (runningProcess(paths, name) !== undefined) {
    signalGroup(proc.pid, 'SIGKILL')
    while (runningProcess(paths, name) !== undefined) await sleep(50)
  }
  fs.rmSync(pidFile(paths, name), { force: true })
  return true
}

/** The last lines of a process's log, for error messages. */
export function logTail(paths: ProcessPaths, name: string, lines = 30): string {
  try {
    return fs.readFileSync(logFile(paths, name), 'utf8').trimEnd().split('\n').slice(-lines).join('\n')
  } catch {
    return '(no log)'
  }
}

/** Resident memory of a process and its children, in bytes (Linux /proc). */
export async function residentBytes(pid: number): Promise<number> {
  try {
    const { stdout } = await execFileAsync('ps', ['-o', 'rss=', '--ppid', String(pid), '-p', String(pid)])
    return stdout
      .split('\n')
      .map((l) => Number(l.trim()))
      .filter((n) => Number.isFinite(n) && n > 0)
      .reduce((a, b) => a + b * 1024, 0)
  } catch {
    return 0
  }
}

export async function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, args, { ...options, maxBuffer: 64 * 1024 * 1024 })
    return stdout
  } catch (error) {
    const e = error as { stderr?: string; stdout?: string; message: string }
    const detail = [e.stdout, e.stderr].filter(Boolean).join('\n').trim().split('\n').slice(-30).join('\n')
    throw new Error(`${command} ${args.join(' ')} failed: ${e.message}\n${detail}`)
  }
}

/** Thrown by a `waitFor` probe when waiting longer cannot help (the process died). */
export class GiveUp extends Error {}

/**
 * A probe that fails fast once `name`, which `up` started, is gone: seen dead twice in a row, so
 * that a process still between fork and exec is not mistaken for a dead one.
 */
export function unlessExited(
  paths: ProcessPaths,
  name: string,
  answers: () => Promise<boolean>,
): () => Promise<true | undefined> {
  let misses = 0
  return async () => {
    if (await answers()) return true
    misses = runningProcess(paths, name) ? 0 : misses + 1
    if (misses >= 2) throw new GiveUp(`the ${name} process exited`)
    return undefined
  }
}

export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  probe: () => Promise<T | undefined>,
  onTimeout: () => string,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let lastError: unknown
  for (;;) {
    try {
      const value = await probe()
      if (value !== undefined) return value
    } catch (error) {
      if (error instanceof GiveUp) throw new Error(`${what} did not start: ${error.message}\n${onTimeout()}`)
      lastError = error
    }
    if (Date.now() > deadline) {
      const reason = lastError instanceof Error ? ` (last error: ${lastError.message})` : ''
      throw new Error(`${what} did not answer within ${Math.round(timeoutMs / 1000)} s${reason}\n${onTimeout()}`)
    }
    await sleep(250)
  }
}

/**
 * A TCP port nobody listens on right now, on 127.0.0.1, for a server started next. It is taken
 * below the kernel's ephemeral range: a port from that range (what `listen(0)` hands out) can be
 * given to any outgoing connection in the seconds before the server binds it, and a CI run once
 * lost a Kafka start that way ("Address already in use"). Below the range only another listener
 * can take it, and the port is drawn at random among thousands.
 */
export async function freePort(): Promise<number> {
  const lowest = lowestEphemeralPort()
  const from = 10_000
  const to = Math.max(from + 1_000, lowest) - 1
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = from + Math.floor(Math.random() * (to - from + 1))
    if (await listenable(port)) return port
  }
  // A machine with nothing free below its ephemeral range: any port the kernel gives.
  return listenOn(0)
}

/** The first port the kernel gives outgoing connections (Linux), or IANA's where unknown. */
function lowestEphemeralPort(): number {
  try {
    const low = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0])
    if (Number.isInteger(low)) return low
  } catch {
    // not Linux
  }
  return 49_152
}

const listenable = (port: number) => listenOn(port).then(() => true, () => false)

function listenOn(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address() as net.AddressInfo
      server.close(() => resolve(bound))
    })
  })
}
