import { defineConfig } from 'vitest/config'

// Tests by tier, by file name: *.unit.test.ts (no I/O), *.int.test.ts (the real local stack),
// *.e2e.test.ts (the whole pipeline). The int and e2e tiers bring the local stack up first.
// Forks, not threads: chDB binds one data folder per process, and each test file opens its own.
export default defineConfig({
  test: {
    pool: 'forks',
    reporters: ['default', ['json', { outputFile: '.vitest-results.json' }]],
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/**/*.unit.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'int',
          include: ['test/**/*.int.test.ts'],
          globalSetup: ['test/support/stack.global-setup.ts'],
          // Services started by these tests make no insight Schedules on the shared Temporal
          // server; test/int/insight-schedule.int.test.ts makes its own.
          env: { DUGOUT_INSIGHTS_SCHEDULE: 'off' },
          testTimeout: 120_000,
          hookTimeout: 300_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/**/*.e2e.test.ts'],
          globalSetup: ['test/support/stack.global-setup.ts', 'test/support/chromium.global-setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
})
