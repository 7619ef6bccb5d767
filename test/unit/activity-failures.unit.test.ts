// The Temporal boundary: bad input leaves an activity as a non-retryable ApplicationFailure of its
// class's name, a fault leaves it as it was (and is retried); and the failure types a workflow
// lists as non-retryable are errors that exist and that some code throws.
import fs from 'node:fs'
import path from 'node:path'
import { ApplicationFailure } from '@temporalio/common'
import { describe, expect, it } from 'vitest'
import { PROJECT_ROOT } from '../../schemas/config.schema.ts'
import { BAD_INPUT_ERRORS, DayError, OrgSettingsError, ParamsError } from '../../services/errors.ts'
import type { ClickHouse } from '../../services/clickhouse/clickhouse-client.ts'
import { createProjectionActivities } from '../../services/projections/projection-activities.ts'
import { failingBadInputForGood } from '../../services/worker/worker-service.ts'
import { orgMetricsActivityOptions } from '../../workflows/org-metrics-workflow.ts'
import { rebuildActivityOptions } from '../../workflows/rebuild-workflow.ts'

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => expect.fail('resolved'),
    (error: unknown) => error,
  )

describe('failingBadInputForGood', () => {
  it.each([
    new DayError('days: must be a calendar date (got "2150-01-01")'),
    new OrgSettingsError('timezone: unknown to ClickHouse (got "Mars/Olympus")'),
    new ParamsError([{ parameter: 'from', rule: 'must be a calendar date', message: 'from: must be a calendar date' }]),
  ])('turns a $name into a non-retryable ApplicationFailure of that type', async (error) => {
    const activities = failingBadInputForGood({ listEventDays: async (_input: unknown) => Promise.reject(error) })
    const failure = await rejection(activities.listEventDays({}))
    expect(failure).toBeInstanceOf(ApplicationFailure)
    expect(failure).toMatchObject({
      type: error.constructor.name,
      message: error.message,
      nonRetryable: true,
      details: [{ code: error.code }],
    })
  })

  it('throws a fault as it is, for the retry policy', async () => {
    const fault = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8123'), { code: 'ECONNREFUSED' })
    const activities = failingBadInputForGood({ recomputeDays: async (_input: unknown) => Promise.reject(fault) })
    expect(await rejection(activities.recomputeDays({}))).toBe(fault)
  })

  it('passes results through', async () => {
    const activities = failingBadInputForGood({ listEventDays: async (input: { org: string }) => [input.org] })
    expect(await activities.listEventDays({ org: 'acme' })).toEqual(['acme'])
  })

  it('sees a bad rebuild range as bad input before any query', async () => {
    const activities = failingBadInputForGood(createProjectionActivities({ ch: {} as ClickHouse }))
    const failure = await rejection(activities.listEventDays({ org: 'holdout', from: '2026-02-30', to: '2026-03-05' }))
    expect(failure).toMatchObject({ type: 'ParamsError', nonRetryable: true })
    expect((failure as Error).message).toContain('from: must be a calendar date YYYY-MM-DD')
    expect((failure as Error).message).toContain('(got "2026-02-30")')
  })
})

describe('non-retryable failure types of the workflows', () => {
  const sources = filesUnder(path.join(PROJECT_ROOT, 'services'))
    .filter((file) => file.endsWith('.ts'))
    .map((file) => fs.readFileSync(file, 'utf8'))

  it.each([
    ['orgMetricsWorkflow', orgMetricsActivityOptions],
    ['rebuildWorkflow', rebuildActivityOptions],
  ] as const)('%s names only bad-input errors that some code throws', (_workflow, options) => {
    const types = options.retry?.nonRetryableErrorTypes ?? []
    expect(types.length).toBeGreaterThan(0)
    for (const type of types) {
      const errorClass = BAD_INPUT_ERRORS.find((c) => c.name === type)
      expect(errorClass, `${type} is a bad-input error of services/errors.ts`).toBeDefined()
      expect(
        sources.some((source) => source.includes(`new ${type}(`)),
        `${type} is thrown somewhere under services/`,
      ).toBe(true)
    }
  })

  it('bounds the attempts of every activity, with backoff up to a maximum interval', () => {
    for (const options of [orgMetricsActivityOptions, rebuildActivityOptions]) {
      expect(options.retry).toMatchObject({
        backoffCoefficient: expect.any(Number),
        maximumInterval: expect.anything(),
        maximumAttempts: expect.any(Number),
      })
      expect(options.retry?.maximumAttempts).toBeGreaterThan(1)
    }
  })
})

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { withFileTypes: true })
    .flatMap((entry) => (entry.isDirectory() ? filesUnder(path.join(dir, entry.name)) : [path.join(dir, entry.name)]))
}
