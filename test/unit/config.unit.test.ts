import { describe, expect, it } from 'vitest'
import { ConfigError, loadConfig } from '../../schemas/config.schema.ts'

function configError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env)
  } catch (error) {
    if (error instanceof ConfigError) return error
    throw error
  }
  throw new Error('expected a ConfigError')
}

describe('loadConfig', () => {
  it('derives the client addresses from the local stack ports by default', () => {
    const c = loadConfig({ DUGOUT_KAFKA_PORT: '19092', DUGOUT_TEMPORAL_PORT: '17233', DUGOUT_HOME: '/srv/dugout' })
    expect(c.KAFKA_BROKERS).toEqual(['127.0.0.1:19092'])
    expect(c.TEMPORAL_ADDRESS).toBe('127.0.0.1:17233')
    expect(c.CHDB_PATH).toBe('/srv/dugout/chdb')
    expect(c.CLICKHOUSE_URL).toBeUndefined()
  })

  it('takes explicit addresses over the derived ones', () => {
    const c = loadConfig({
      KAFKA_BROKERS: 'k1:9092,k2:9092',
      TEMPORAL_ADDRESS: 'temporal:7233',
      CLICKHOUSE_URL: 'http://ch:8123',
    })
    expect(c.KAFKA_BROKERS).toEqual(['k1:9092', 'k2:9092'])
    expect(c.TEMPORAL_ADDRESS).toBe('temporal:7233')
    expect(c.CLICKHOUSE_URL).toBe('http://ch:8123')
  })

  it('treats an empty CLICKHOUSE_URL as unset (the embedded engine)', () => {
    expect(loadConfig({ CLICKHOUSE_URL: '' }).CLICKHOUSE_URL).toBeUndefined()
  })

  it.each([
    ['DUGOUT_KAFKA_PORT', 'abc', 'must be an integer port number from 1 to 65535'],
    ['DUGOUT_TEMPORAL_PORT', '70000', 'must be an integer port number from 1 to 65535'],
    ['KAFKA_BROKERS', 'localhost', 'must be a comma-separated list of host:port'],
    ['CLICKHOUSE_URL', 'tcp://ch:9000', 'must start with http:// or https://'],
    ['CLICKHOUSE_DATABASE', 'Dugout-DB', 'must be a lower-case identifier'],
    ['DUGOUT_KAFKA_HEAP', 'lots', 'must be a JVM heap size'],
    ['LOG_LEVEL', 'loud', 'LOG_LEVEL'],
  ])('rejects %s=%s naming the variable, the rule and the value', (name, value, rule) => {
    const error = configError({ [name]: value })
    expect(error.code).toBe('CONFIG_INVALID')
    expect(error.issues).toHaveLength(1)
    expect(error.issues[0]).toContain(`${name}:`)
    expect(error.issues[0]).toContain(rule)
    expect(error.issues[0]).toContain(JSON.stringify(value))
  })

  it('takes CLICKHOUSE_CLUSTER with a server only', () => {
    expect(loadConfig({ CLICKHOUSE_URL: 'http://ch:8123', CLICKHOUSE_CLUSTER: 'dugout' }).CLICKHOUSE_CLUSTER).toBe(
      'dugout',
    )
    expect(() => loadConfig({ CLICKHOUSE_CLUSTER: 'dugout' })).toThrow(/CLICKHOUSE_CLUSTER: needs CLICKHOUSE_URL/)
    expect(() => loadConfig({ CLICKHOUSE_URL: 'http://ch:8123', CLICKHOUSE_CLUSTER: 'Bad-Name' })).toThrow(
      /CLICKHOUSE_CLUSTER: must be a lower-case identifier/,
    )
  })

  it('reports every bad variable at once', () => {
    expect(configError({ DUGOUT_KAFKA_PORT: '0', DUGOUT_HTTP_PORT: 'x' }).issues).toHaveLength(2)
  })
})
