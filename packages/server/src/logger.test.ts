import { describe, expect, it } from 'vitest'
import { jsonLogger, lineBuffer } from './logger.ts'

describe('lineBuffer', () => {
  it('writes the lines of one turn of the event loop in one write, in order, before the next turn', async () => {
    const writes: string[] = []
    const logger = jsonLogger(lineBuffer((text) => writes.push(text)))
    logger.info('first', { n: 1 })
    logger.warn('second')
    expect(writes).toEqual([])
    await new Promise((resolve) => setImmediate(resolve))
    expect(writes).toHaveLength(1)
    const lines = (writes[0] as string)
      .trimEnd()
      .split('\n')
      .map((line) => JSON.parse(line))
    expect(lines.map((line) => [line.level, line.msg])).toEqual([
      ['info', 'first'],
      ['warn', 'second'],
    ])
    logger.error('third')
    await new Promise((resolve) => setImmediate(resolve))
    expect(writes).toHaveLength(2)
    expect(JSON.parse(writes[1] as string).msg).toBe('third')
  })

  it('writes at once when 64 KiB wait', () => {
    const writes: string[] = []
    const write = lineBuffer((text) => writes.push(text))
    write(`${'x'.repeat(40_000)}\n`)
    expect(writes).toEqual([])
    write(`${'y'.repeat(40_000)}\n`)
    expect(writes).toHaveLength(1)
    expect(writes[0]).toHaveLength(80_002)
  })
})
