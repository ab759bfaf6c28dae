/** A structured logger: one JSON object a line. */
export type Logger = {
  info(message: string, fields?: Record<string, unknown>): void
  warn(message: string, fields?: Record<string, unknown>): void
  error(message: string, fields?: Record<string, unknown>): void
}

/** Writes JSON lines (`{"time","level","msg",...}`) to a stream, stdout by default. */
export function jsonLogger(
  write: (line: string) => void = (line) => process.stdout.write(line),
): Logger {
  const log =
    (level: string) =>
    (message: string, fields: Record<string, unknown> = {}) =>
      write(
        `${JSON.stringify({ time: new Date().toISOString(), level, msg: message, ...fields })}\n`,
      )
  return { info: log('info'), warn: log('warn'), error: log('error') }
}

/**
 * Joins the lines written in one turn of the event loop into one `write`: a write to a pipe is
 * synchronous on Linux, so a log line a request cost a system call each under load (10-15% of
 * `credly serve`'s requests per second). What waits is written when the loop turns, at 64 KiB,
 * and at exit.
 */
export function lineBuffer(write: (text: string) => void): (line: string) => void {
  let pending = ''
  const flush = () => {
    if (pending === '') return
    const text = pending
    pending = ''
    write(text)
  }
  process.once('exit', flush)
  return (line) => {
    if (pending === '') setImmediate(flush)
    pending += line
    if (pending.length >= 65_536) flush()
  }
}

/** A logger that drops everything, for tests and embedding. */
export const silentLogger: Logger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
}
