// Every command answers --help with a description and its usage: the CLI documents itself.
import type { Command } from 'commander'
import { describe, expect, it } from 'vitest'
import { buildProgram } from '../../services/cli/main.ts'

function allCommands(command: Command, prefix = ''): [string, Command][] {
  const name = `${prefix}${command.name()}`
  return [[name, command], ...command.commands.flatMap((c) => allCommands(c, `${name} `))]
}

describe('dugout --help', () => {
  const commands = allCommands(buildProgram())

  it('has the commands the README documents', () => {
    const names = commands.map(([name]) => name)
    for (const expected of [
      'dugout stack up',
      'dugout stack down',
      'dugout stack status',
      'dugout run',
      'dugout up',
      'dugout down',
      'dugout demo',
    ]) {
      expect(names).toContain(expected)
    }
  })

  it.each(commands.map(([name, command]) => [name, command] as const))(
    '%s has a description and a usage',
    (name, command) => {
      expect(command.description().length, `${name} description`).toBeGreaterThan(10)
      const help = command.helpInformation()
      expect(help).toContain('Usage:')
      expect(help).toContain('-h, --help')
    },
  )
})
