import pg from 'pg'

let n = 0
const texts = new Map()
const orig = pg.Client.prototype.query
pg.Client.prototype.query = function (q, ...rest) {
  n++
  const t = (typeof q === 'string' ? q : (q?.text ?? '')).slice(0, 60).replace(/\s+/g, ' ')
  texts.set(t, (texts.get(t) || 0) + 1)
  return orig.call(this, q, ...rest)
}
process.on('SIGTERM', () => {
  console.error('QUERIES', n, JSON.stringify([...texts].sort((a, b) => b[1] - a[1]).slice(0, 15)))
  process.exit(0)
})
