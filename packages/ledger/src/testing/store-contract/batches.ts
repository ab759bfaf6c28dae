import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { UserRow } from '../../stores/store.ts'
import { type LedgerHarness, openHarness, type StoreFactory, verifyAndClose } from '../harness.ts'

/** What a store's writer does for the units that share one batch (group commit). */
export function batchesSuite(factory: StoreFactory): void {
  describe('units sharing a batch', () => {
    let h: LedgerHarness
    beforeEach(async () => {
      h = await openHarness(factory)
      await h.ledger.createUser(h.projectId, { user_id: 'ann' })
    })
    afterEach(() => verifyAndClose(h))

    it('writes a row as given after a unit that changed it in the same batch was undone', async () => {
      const ann = (await h.store.read((tx) => tx.getUser(h.projectId, 'ann'))) as UserRow
      const options = { batchKey: 'ann' }
      // The first unit changes ann, reads the change back, then fails: its savepoint is rolled
      // back. The second writes ann without reading her first. A writer that still believed the
      // rolled-back read would find nothing to write and leave the old balance.
      const [undone, written] = await Promise.allSettled([
        h.store.write(async (tx) => {
          const locked = (await tx.lockUser(h.projectId, 'ann')) as UserRow
          await tx.updateUser({ ...locked, available: locked.available - 1 })
          await tx.lockUser(h.projectId, 'ann')
          throw new Error('undone on purpose')
        }, options),
        h.store.write(async (tx) => {
          await tx.updateUser({ ...ann, available: ann.available - 1, held: 1 })
        }, options),
      ])
      expect([undone.status, written.status]).toEqual(['rejected', 'fulfilled'])
      const after = (await h.store.read((tx) => tx.getUser(h.projectId, 'ann'))) as UserRow
      expect([after.available, after.held]).toEqual([ann.available - 1, 1])
      // Put ann back as the journal has her, so the harness's verify() agrees.
      await h.store.write(async (tx) => {
        await tx.lockUser(h.projectId, 'ann')
        await tx.updateUser(ann)
      })
    })
  })
}
