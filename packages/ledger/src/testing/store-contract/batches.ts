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

    it('commits the operations of many users that arrive together in a few transactions', async () => {
      const users = Array.from({ length: 24 }, (_, index) => `user-${index}`)
      for (const user of users) await h.ledger.createUser(h.projectId, { user_id: user })
      const before = h.store.stats()
      const starts = await Promise.all(
        users.map((user) =>
          h.ledger.startUsage(h.projectId, {
            user_id: user,
            model: 'unit',
            provisional_tokens: { output_tokens: 10 },
          }),
        ),
      )
      await Promise.all(
        starts.map((start) =>
          h.ledger.completeUsage(h.projectId, {
            transaction_id: start.transaction_id as string,
            success: true,
            finalized_tokens: { output_tokens: 4 },
          }),
        ),
      )
      const after = h.store.stats()
      expect(after.writes - before.writes).toBe(48)
      expect(after.commits - before.commits).toBeLessThan(16)
      for (const user of users)
        expect(await h.ledger.getBalance(h.projectId, user)).toEqual({
          user_id: user,
          balance: 96,
          held: 0,
        })
    })

    it('undoes only the operation that fails, in a batch of several users', async () => {
      for (const user of ['bob', 'carl']) await h.ledger.createUser(h.projectId, { user_id: user })
      const bob = (await h.store.read((tx) => tx.getUser(h.projectId, 'bob'))) as UserRow
      const results = await Promise.allSettled([
        h.ledger.grantCredits(h.projectId, { user_id: 'ann', credits: 1 }),
        // Refused by the ledger, before it writes.
        h.ledger.startUsage(h.projectId, { user_id: 'bob', model: 'no-such-model' }),
        // Refused by the database (held must not be negative), when the batch is committed.
        h.store.write(
          async (tx) => {
            await tx.lockUser(h.projectId, 'bob')
            await tx.updateUser({ ...bob, held: -1 })
          },
          { user: { projectId: h.projectId, userId: 'bob' } },
        ),
        h.ledger.grantCredits(h.projectId, { user_id: 'carl', credits: 2 }),
      ])
      expect(results.map((result) => result.status)).toEqual([
        'fulfilled',
        'rejected',
        'rejected',
        'fulfilled',
      ])
      const balances = await Promise.all(
        ['ann', 'bob', 'carl'].map(
          async (user) => (await h.ledger.getBalance(h.projectId, user)).balance,
        ),
      )
      expect(balances).toEqual([101, 100, 102])
    })

    it('undoes an operation the ledger refuses without running the rest of its batch again', async () => {
      for (const user of ['bob', 'carl', 'x', 'y'])
        await h.ledger.createUser(h.projectId, { user_id: user })
      const before = h.store.stats()
      // Two writes first: a store running two transactions at once batches the next three.
      const results = await Promise.allSettled([
        h.ledger.grantCredits(h.projectId, { user_id: 'x', credits: 1 }),
        h.ledger.grantCredits(h.projectId, { user_id: 'y', credits: 1 }),
        h.ledger.grantCredits(h.projectId, { user_id: 'ann', credits: 1 }),
        h.ledger.startUsage(h.projectId, { user_id: 'bob', model: 'no-such-model' }),
        h.ledger.grantCredits(h.projectId, { user_id: 'carl', credits: 2 }),
      ])
      expect(results.map((result) => result.status)).toEqual([
        'fulfilled',
        'fulfilled',
        'fulfilled',
        'rejected',
        'fulfilled',
      ])
      expect(h.store.stats().commits - before.commits).toBeLessThanOrEqual(3)
      expect((await h.ledger.getBalance(h.projectId, 'carl')).balance).toBe(102)
    })

    it("keeps a user's balance right across the units of one batch, through a delete and a new user under the id", async () => {
      const start = (tokens: number) =>
        h.ledger.startUsage(h.projectId, {
          user_id: 'ann',
          model: 'unit',
          provisional_tokens: { output_tokens: tokens },
        })
      // Issued together: one user's units share a batch, each reading what the one before wrote.
      const [zeroth, , first, second, , , , third] = await Promise.all([
        start(10),
        h.ledger.grantCredits(h.projectId, { user_id: 'ann', credits: 7 }),
        start(97), // needs the 7 just granted
        start(10), // none left: refused
        h.ledger.deleteUser(h.projectId, 'ann'),
        h.ledger.createUser(h.projectId, { user_id: 'ann' }),
        h.ledger.grantCredits(h.projectId, { user_id: 'ann', credits: 5 }),
        start(10),
      ])
      expect([zeroth.continue, first.continue, second.continue, third.continue]).toEqual([
        true,
        true,
        false,
        true,
      ])
      // The 97 came from the tier's bucket and the one granted in the batch, none on overdraft.
      const journal = await h.store.read((tx) => tx.readJournal(h.projectId, 0, 1000))
      const reserved = journal.filter(
        (entry) => entry.kind === 'reserve' && entry.transaction_id === first.transaction_id,
      )
      expect(reserved.map((entry) => entry.debit.split(':')[0])).toEqual(['bucket', 'bucket'])
      for (const call of [zeroth, first])
        expect(
          (await h.ledger.getTransaction(h.projectId, call.transaction_id as string)).status,
        ).toBe('expired')
      expect(await h.ledger.getBalance(h.projectId, 'ann')).toEqual({
        user_id: 'ann',
        balance: 95,
        held: 10,
      })
      await h.ledger.completeUsage(h.projectId, {
        transaction_id: third.transaction_id as string,
        success: true,
        finalized_tokens: { output_tokens: 3 },
      })
      expect((await h.ledger.getBalance(h.projectId, 'ann')).balance).toBe(102)
    })

    it('writes a row as given after a unit that changed it in the same batch was undone', async () => {
      const ann = (await h.store.read((tx) => tx.getUser(h.projectId, 'ann'))) as UserRow
      const options = { user: { projectId: h.projectId, userId: 'ann' } }
      // The first unit changes ann, reads the change back, then fails: it is undone. The second
      // writes ann without reading her first. A writer that still believed the undone read would
      // find nothing to write and leave the old balance.
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
