#!/usr/bin/env node
// `npx credly <command>`: the CLI lives in @credly/server (it needs the ledger and the HTTP
// server, which a client does not); this runs it when it is installed, and says how otherwise.
let cli
try {
  cli = await import('@credly/server/cli')
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('@credly/server'))
    throw error
  process.stderr.write(
    'credly: the credly command comes with the @credly/server package, which is not installed here.\n' +
      '  Install it:        npm install @credly/server   (then: npx credly init --config credly.json)\n' +
      '  Or run it once:    npx @credly/server init --config credly.json\n',
  )
  process.exit(1)
}
process.exitCode = await cli.runCli(process.argv.slice(2))
