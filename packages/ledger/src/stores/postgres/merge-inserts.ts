/**
 * Joins the deferred `INSERT`s into one table (same columns) into one multi-row `INSERT`, at the
 * place of the first: PostgreSQL parses and plans one statement instead of one per unit. Moving an
 * insert earlier is safe here, as no write that waits before it can concern the row it inserts.
 */
export function mergeInserts(items: Waiting[]): Waiting[] {
  const merged: Waiting[] = []
  const byInto = new Map<string, Waiting>()
  for (const item of items) {
    const first = item.into === undefined ? undefined : byInto.get(item.into)
    if (item.into === undefined) merged.push(item)
    else if (!first) {
      const copy = { ...item }
      byInto.set(item.into, copy)
      merged.push(copy)
    } else {
      first.sql = `${first.sql}, ${item.sql.slice((item.into as string).length)}`
    }
  }
  return merged
}

/**
 * A statement not sent yet. `write`: a deferred write (the rest is BEGIN and savepoints); `into`:
 * for a plain `INSERT ... VALUES (...), ...`, its text up to the first row, which rows of other
 * inserts with the same text may join.
 */
export type Waiting = { sql: string; write: boolean; into?: string }

/** `INSERT INTO t (columns) VALUES `, for a template that is only that and its rows of `?`. */
export function insertInto(template: string): string | undefined {
  if (!insertIntoCache.has(template)) {
    const match = /^(INSERT INTO \w+ \([\w\s,]+\)\s+VALUES )\((\?, )*\?\)(, \((\?, )*\?\))*$/.exec(
      template,
    )
    if (insertIntoCache.size < 1000) insertIntoCache.set(template, match?.[1])
    return match?.[1]
  }
  return insertIntoCache.get(template)
}
const insertIntoCache = new Map<string, string | undefined>()
