// Lint rules from shared/STYLE.md: workflow code is deterministic (no Node built-ins, no I/O, only
// `@temporalio/workflow`, schema types and activity *types*), and no promise is left floating.
import js from '@eslint/js'
import tseslint from 'typescript-eslint'

const nodeBuiltins = [
  'assert',
  'buffer',
  'child_process',
  'cluster',
  'crypto',
  'dgram',
  'dns',
  'events',
  'fs',
  'fs/promises',
  'http',
  'http2',
  'https',
  'net',
  'os',
  'path',
  'perf_hooks',
  'process',
  'readline',
  'stream',
  'timers',
  'tls',
  'url',
  'util',
  'v8',
  'vm',
  'worker_threads',
  'zlib',
]

export default tseslint.config(
  { ignores: ['node_modules/**', '.dugout/**', 'dist/**', 'coverage/**', '.scratch/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', fetch: 'readonly' } },
  },
  {
    // The report page's script runs in the browser (services/reports/report-page.ts serves it).
    files: ['services/reports/page/**/*.js'],
    languageOptions: {
      sourceType: 'script',
      globals: {
        window: 'readonly',
        document: 'readonly',
        Intl: 'readonly',
        URLSearchParams: 'readonly',
        Option: 'readonly',
      },
    },
  },
  {
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-properties': [
        'error',
        {
          object: 'process',
          property: 'env',
          message: 'Read configuration through schemas/config.schema.ts in main() and pass it down.',
        },
      ],
    },
  },
  {
    files: ['services/cli/main.ts', 'test/**', 'bench/**', 'vitest.config.ts'],
    rules: { 'no-restricted-properties': 'off' },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.flatMap((name) => [
            { name, message: 'Workflow code must be deterministic: no Node built-ins.' },
            { name: `node:${name}`, message: 'Workflow code must be deterministic: no Node built-ins.' },
          ]),
          patterns: [
            {
              group: [
                '../services/*',
                '../services/**',
                '../infra/**',
                'kafkajs',
                '@clickhouse/*',
                'chdb',
                'chdb/*',
                '@temporalio/client',
                '@temporalio/worker',
                '@temporalio/activity',
              ],
              message: 'Workflows import only @temporalio/workflow, schema types and activity types (import type).',
              allowTypeImports: true,
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'Use sleep() from @temporalio/workflow.' },
        { name: 'setInterval', message: 'Workflows have no intervals; use sleep() in a loop.' },
        { name: 'fetch', message: 'Workflows do no I/O; call an activity.' },
      ],
    },
  },
)
