import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'

const cli = new URL('../src/cli/run.ts', import.meta.url).pathname

/** A `credly serve` process, from source, once its "listening" log line is out. */
export type ServeProcess = {
  child: ChildProcessWithoutNullStreams
  url: string
  /** Its JSON log lines so far. */
  logs: () => Array<Record<string, unknown>>
  exited: Promise<number>
}

/** Starts `credly serve ...args` and waits for its "listening" log line. */
export async function startCredlyServe(args: string[]): Promise<ServeProcess> {
  const child = spawn(process.execPath, ['--conditions=@credly/source', cli, 'serve', ...args])
  let stdout = ''
  let stderr = ''
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  const exited = new Promise<number>((resolve) => child.on('exit', (code) => resolve(code ?? -1)))
  const logs = () =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk) => {
      stdout += chunk
      const listening = logs().find((line) => line.msg === 'listening')
      if (listening) resolve(listening.url as string)
    })
    void exited.then((code) => reject(new Error(`credly serve exited with ${code}: ${stderr}`)))
  })
  return { child, url, logs, exited }
}
