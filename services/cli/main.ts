/**
 * The `dugout` command line. The only module that reads `process.env`: it parses the
 * configuration once per command and passes it down.
 */
import { Command, Option } from 'commander'
import fs from 'node:fs'
import path from 'node:path'
import {
  CONFIG_DOCS,
  ConfigError,
  DugoutEnv,
  loadConfig,
  PROJECT_ROOT,
  shownValue,
  type DugoutConfig,
} from '../../schemas/config.schema.ts'
import {
  dugoutProblems,
  formatStatus,
  stackDown,
  stackPaths,
  stackStatus,
  stackUp,
} from '../../infra/stack/local-stack.ts'
import { GiveUp, logTail, runningProcess, startDetached, waitFor } from '../../infra/stack/processes.ts'
import { createClickHouse } from '../clickhouse/clickhouse-client.ts'
import { migrate } from '../clickhouse/migrations.ts'
import { parseServiceList, startHost } from '../runtime/service-host.ts'
import { SERVICE_STARTERS } from './service-registry.ts'
import { demoCommand, generateCommand } from './demo-command.ts'
import { biCommand } from './bi-command.ts'
import { explainCommand } from './explain-command.ts'
import { importCommand } from './import-command.ts'
import { insightsCommand } from './insights-command.ts'
import { httpBase } from './service-client.ts'
import { orgCommand, rebuildCommand, reportCommand } from './report-commands.ts'

const say = (line: string) => process.stderr.write(`${line}\n`)
/** How long `dugout run` waits for its services to stop after SIGINT/SIGTERM. */
const STOP_DEADLINE_MS = 30_000
const config = (): DugoutConfig => loadConfig(process.env)
const packageJson = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }

/** The command tree; building it has no side effects, so tests can walk it. */
export function buildProgram(): Command {
  const program = new Command('dugout')
    .description(
      'Event-sourced team analytics for sales organisations: CRM events through Kafka and Temporal into ClickHouse.',
    )
    .version(packageJson.version)
    .showHelpAfterError()

  const stack = program
    .command('stack')
    .description(
      'The local stack: a real Kafka broker and Temporal server, installed and run natively under $DUGOUT_HOME.',
    )

  stack
    .command('up')
    .description('Install (first run only), start and wait for Kafka and Temporal.')
    .action(async () => {
      const started = Date.now()
      const c = config()
      await stackUp(c, say)
      say(`stack is up in ${((Date.now() - started) / 1000).toFixed(1)} s`)
      say(formatStatus(await stackStatus(c)))
    })

  stack
    .command('down')
    .description('Stop the processes `stack up` started (by pid), nothing else.')
    .action(async () => {
      await stackDown(config(), say, ['temporal', 'kafka'])
    })

  stack
    .command('status')
    .description('Show each service: running, answering, address, memory, log file, Temporal UI.')
    .option('--json', 'machine-readable output')
    .action(async (options: { json?: boolean }) => {
      const statuses = await stackStatus(config())
      if (options.json) process.stdout.write(`${JSON.stringify(statuses, null, 2)}\n`)
      else process.stdout.write(`${formatStatus(statuses)}\n`)
      if (!statuses.every((s) => s.answering)) process.exitCode = 3
    })

  program
    .command('run')
    .description("Run Dugout's services in the foreground, all in one process by default (the embedded default).")
    .addOption(new Option('--only <services>', 'comma-separated subset: collector, ingest, worker, reports'))
    .action(async (options: { only?: string }) => {
      const c = config()
      const host = await startHost(c, SERVICE_STARTERS, parseServiceList(options.only))
      say(
        `dugout is running (${host.services.join(', ') || 'no services yet'}; http ${host.http.url}); Ctrl-C stops it`,
      )
      await new Promise<void>((resolve) => {
        const shutdown = () => resolve()
        process.once('SIGINT', shutdown)
        process.once('SIGTERM', shutdown)
      })
      say('stopping…')
      // A service whose peer is gone for good (a broker that never comes back) must not keep the
      // process alive forever: nothing uncommitted is lost by exiting, it is redelivered.
      const deadline = setTimeout(() => {
        say(`dugout: services did not stop within ${STOP_DEADLINE_MS / 1000} s; exiting`)
        process.exit(1)
      }, STOP_DEADLINE_MS)
      deadline.unref()
      await host.stop()
    })

  program
    .command('up')
    .description('Start the local stack and `dugout run` in the background (logs under $DUGOUT_HOME/logs).')
    .action(async () => {
      const c = config()
      await stackUp(c, say)
      await startServicesInBackground(c)
    })

  program
    .command('down')
    .description('Stop `dugout run` and the local stack started by `dugout up`.')
    .action(async () => {
      await stackDown(config(), say)
    })

  program.addCommand(importCommand(config))
  program.addCommand(reportCommand(config))
  program.addCommand(orgCommand(config))
  program.addCommand(explainCommand(config))
  program.addCommand(rebuildCommand(config))
  program.addCommand(biCommand(config))
  program.addCommand(insightsCommand(config))

  program
    .command('migrate')
    .description('Apply the ClickHouse migrations (also done by `dugout run` at start).')
    .action(async () => {
      const ch = createClickHouse(config())
      try {
        const applied = await migrate(ch)
        say(applied.length ? `applied: ${applied.join(', ')}` : 'nothing to apply')
      } finally {
        await ch.close()
      }
    })

  program
    .command('config')
    .description('List every configuration variable with its meaning and the value in effect.')
    .action(() => {
      const c = config() as unknown as Record<string, unknown>
      for (const key of Object.keys(DugoutEnv.shape) as (keyof typeof CONFIG_DOCS)[]) {
        process.stdout.write(`${key}=${shownValue(key, c[key])}\n    ${CONFIG_DOCS[key]}\n`)
      }
    })

  program.addCommand(demoCommand(config))
  program.addCommand(generateCommand())

  return program
}

async function startServicesInBackground(c: DugoutConfig): Promise<void> {
  const paths = stackPaths(c.DUGOUT_HOME)
  const bin = path.join(PROJECT_ROOT, 'bin', 'dugout.js')
  if (!runningProcess(paths, 'dugout')) {
    say(`dugout: starting the services in the background (log ${path.join(paths.logDir, 'dugout.log')})`)
    startDetached(paths, 'dugout', process.execPath, [bin, 'run'], { marker: `${bin} run` })
  }
  const url = `${httpBase(c)}/healthz`
  await waitFor(
    'dugout run',
    c.DUGOUT_STACK_TIMEOUT_SECONDS * 1000,
    async () => {
      if (!runningProcess(paths, 'dugout')) throw new GiveUp('the process exited')
      const response = await fetch(url)
      if (response.ok) return true
      // Answering but failing: a service stopped for good. Waiting longer cannot help.
      const { problems } = await dugoutProblems(httpBase(c))
      if (response.status === 503 && problems.length) throw new GiveUp(problems.join('; '))
      return undefined
    },
    () => `--- last lines of the dugout log:\n${logTail(paths, 'dugout')}`,
  )
  say(`dugout: ready on ${httpBase(c)}`)
}

/** Runs the CLI with this process's arguments; exit codes: 1 failure, 2 bad configuration. */
export async function main(argv = process.argv): Promise<void> {
  // `dugout generate | head` closes the pipe early: that is the reader's choice, not a failure.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(0)
    throw error
  })
  try {
    await buildProgram().parseAsync(argv)
  } catch (error) {
    if (error instanceof ConfigError) {
      say(`dugout: ${error.message}`)
      process.exitCode = 2
    } else {
      say(`dugout: ${error instanceof Error ? error.message : String(error)}`)
      if (process.env.LOG_LEVEL === 'debug' && error instanceof Error) say(error.stack ?? '')
      process.exitCode = 1
    }
  }
}
