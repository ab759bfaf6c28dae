import { type ChildProcess, spawn } from 'node:child_process'

/** A server process of a bench, once it has printed its URL. */
export type ServerProcess = {
  child: ChildProcess
  url: string
  /** What it wrote on stderr so far. */
  stderr(): string
  /** SIGTERM, then its exit. */
  stop(): Promise<void>
}

/**
 * Starts `node ...nodeArgs`, a server that prints its URL (on a line of its own or in its JSON
 * log), and waits for that URL. Its stdout is read and dropped from then on: kept, a long run's
 * log would fill the bench's memory, and a server writing to a full pipe waits.
 */
export async function startServerProcess(nodeArgs: string[]): Promise<ServerProcess> {
  const child = spawn(process.execPath, nodeArgs, { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (chunk) => {
    stderr += chunk
  })
  const url = await new Promise<string>((resolve, reject) => {
    let stdout = ''
    const read = (chunk: Buffer) => {
      stdout += chunk
      const match = /(http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)
      if (!match) return
      child.stdout?.off('data', read)
      child.stdout?.resume()
      resolve(match[1] as string)
    }
    child.stdout?.on('data', read)
    child.once('exit', (code) =>
      reject(new Error(`${nodeArgs.join(' ')} exited with ${code}: ${stderr}`)),
    )
  })
  return {
    child,
    url,
    stderr: () => stderr,
    stop: async () => {
      child.kill('SIGTERM')
      if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve))
    },
  }
}
