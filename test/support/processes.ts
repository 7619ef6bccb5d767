/** Running the real `dugout` command from tests. */
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { PROJECT_ROOT } from '../../schemas/config.schema.ts'
export { freePort } from '../../infra/stack/processes.ts'

export const DUGOUT_BIN = path.join(PROJECT_ROOT, 'bin', 'dugout.js')

export interface DugoutProcess {
  child: ChildProcess
  output: () => string
  exited: Promise<number | null>
}

export function spawnDugout(args: string[], env: Record<string, string>): DugoutProcess {
  const child = spawn(process.execPath, [DUGOUT_BIN, ...args], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()))
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  return { child, output: () => output, exited }
}

export async function waitForHttp(url: string, timeoutMs: number, process: DugoutProcess): Promise<Response> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      const response = await fetch(url)
      if (response.ok) return response
    } catch {
      // not listening yet
    }
    if (process.child.exitCode !== null || Date.now() > deadline) {
      throw new Error(`${url} did not answer; output:\n${process.output()}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}
