// The README documents every configuration variable: adding one without documenting it fails.
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { DugoutEnv, PROJECT_ROOT } from '../../schemas/config.schema.ts'

describe('README', () => {
  const readme = fs.readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8')

  it.each(Object.keys(DugoutEnv.shape))('documents %s in the configuration table', (name) => {
    expect(readme).toMatch(new RegExp(`^\\| \`${name}\` \\|`, 'm'))
  })

  it('gives the two set-up commands that .ci/run and a newcomer use', () => {
    expect(readme).toContain('npm install && npm run demo')
    expect(readme).toContain('npm install && npm test')
    expect(fs.readFileSync(path.join(PROJECT_ROOT, '.ci/run'), 'utf8')).toContain('npm install && npm test')
  })
})
