/**
 * How long kept rows are not kept after being found changed: at first briefly (a grant through
 * another instance, a fix typed in SQL), then, while they keep being found changed within a
 * minute, twice as long each time up to the most: another instance writes the same users (a load
 * balancer spreading them at random), so checking versions would mostly fail, and the locking read
 * each batch does then is cheaper.
 */
const KEEP_PAUSE_MS = { least: 1_000, most: 30_000, within: 60_000 }

/**
 * Users paused at once past which the instance stops keeping anyone's rows: its users are shared
 * wholesale, and pausing them one by one would fail a batch for each.
 */
const MOST_USERS_PAUSED = 8

type Pause = { ms: number; at: number }

/** The pause that follows `previous` at `now` (see `KEEP_PAUSE_MS`). */
function nextPause(previous: Pause | undefined, now: number): Pause {
  const ms =
    previous && now - previous.at < KEEP_PAUSE_MS.within
      ? Math.min(KEEP_PAUSE_MS.most, Math.max(KEEP_PAUSE_MS.least, previous.ms * 2))
      : KEEP_PAUSE_MS.least
  return { ms, at: now }
}

/**
 * When a PostgreSQL store keeps rows across transactions, and whose. Rows another instance changed
 * pause their users only (`credly_check_kept` names them), so a user written through two instances
 * does not cost the others their kept rows; a changed project, or many users at once, pauses all.
 */
export class KeepPauses {
  #all: Pause | undefined
  readonly #users = new Map<string, Pause>()
  #never = false

  /** The engine has no row versions (`xmin`): rows are never kept. */
  never(): void {
    this.#never = true
  }

  /** Whether rows may be kept at all at `now`. */
  keeping(now: number): boolean {
    return !this.#never && (this.#all === undefined || now >= this.#all.at + this.#all.ms)
  }

  /** The users (by ref) whose rows are not kept at `now`. */
  paused(now: number): Set<string> {
    const refs = new Set<string>()
    for (const [ref, pause] of this.#users) {
      if (now < pause.at + pause.ms) refs.add(ref)
      // Remembered for a minute, so that a user found changed again pauses longer.
      else if (now - pause.at >= KEEP_PAUSE_MS.within) this.#users.delete(ref)
    }
    return refs
  }

  /** Kept rows were found changed: of these users (by ref), or, with none named, of anyone. */
  changed(refs: readonly string[], now: number): void {
    if (refs.length > 0) {
      // A user whose row and buckets both changed is named twice: one change.
      for (const ref of new Set(refs)) this.#users.set(ref, nextPause(this.#users.get(ref), now))
      if (this.paused(now).size <= MOST_USERS_PAUSED) return
      this.#users.clear()
    }
    this.#all = nextPause(this.#all, now)
  }
}
