// Preloaded into the server by memory-bench.ts: on SIGUSR2, reports memory before and after a
// full garbage collection on stderr, so the bench can tell live data from what V8 keeps mapped.
process.on('SIGUSR2', () => {
  const before = process.memoryUsage()
  global.gc?.()
  global.gc?.()
  const after = process.memoryUsage()
  process.stderr.write(`${JSON.stringify({ memory: { before, after } })}\n`)
})
