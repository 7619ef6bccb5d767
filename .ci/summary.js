// Prints vitest's counts as one plain line, `N passed, N failed`, from its JSON report. When the
// run stopped before vitest (lint or typecheck failed), that is one failure.
import fs from 'node:fs'

const [file, status] = process.argv.slice(2)
let passed = 0
let failed = 0
let skipped = 0
try {
  const report = JSON.parse(fs.readFileSync(file, 'utf8'))
  passed = report.numPassedTests
  failed = report.numFailedTests + (report.numRuntimeErrorTestSuites ?? 0)
  skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)
  if (status !== '0' && failed === 0) failed = 1
} catch {
  failed = 1
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
