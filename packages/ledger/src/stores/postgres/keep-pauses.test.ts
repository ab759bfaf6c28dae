import { describe, expect, it } from 'vitest'
import { KeepPauses } from './keep-pauses.ts'

describe('KeepPauses', () => {
  it("pauses a changed user's rows for a second, twice as long each time within a minute, at most 30 s", () => {
    const pauses = new KeepPauses()
    let now = 1_000_000
    const lengths: number[] = []
    for (let time = 0; time < 7; time++) {
      pauses.changed(['usr_ann'], now)
      expect(pauses.keeping(now)).toBe(true)
      expect(pauses.paused(now)).toEqual(new Set(['usr_ann']))
      let length = 0
      while (pauses.paused(now + length).size > 0) length += 250
      lengths.push(length)
      now += length
    }
    expect(lengths).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000])
    // A minute without a change: the next pause is short again.
    now += 60_000
    pauses.changed(['usr_ann'], now)
    expect(pauses.paused(now + 999)).toEqual(new Set(['usr_ann']))
    expect(pauses.paused(now + 1_000)).toEqual(new Set())
  })

  it('pauses only the users named, a user named twice once; the others stay kept', () => {
    const pauses = new KeepPauses()
    pauses.changed(['usr_ann', 'usr_bob', 'usr_ann'], 0)
    expect(pauses.paused(500)).toEqual(new Set(['usr_ann', 'usr_bob']))
    expect(pauses.paused(1_000)).toEqual(new Set())
    expect(pauses.keeping(500)).toBe(true)
  })

  it('pauses everyone when no user is named (a project changed) or many users are paused at once', () => {
    const unnamed = new KeepPauses()
    unnamed.changed([], 0)
    expect(unnamed.keeping(999)).toBe(false)
    expect(unnamed.keeping(1_000)).toBe(true)

    const many = new KeepPauses()
    for (let user = 0; user < 8; user++) many.changed([`usr_${user}`], 0)
    expect(many.keeping(0)).toBe(true)
    many.changed(['usr_8'], 0)
    expect(many.keeping(999)).toBe(false)
    expect(many.keeping(1_000)).toBe(true)
    expect(many.paused(1_000)).toEqual(new Set())
  })

  it('never keeps on an engine without row versions', () => {
    const pauses = new KeepPauses()
    pauses.never()
    expect(pauses.keeping(Number.MAX_SAFE_INTEGER)).toBe(false)
  })
})
