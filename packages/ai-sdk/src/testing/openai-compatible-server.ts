import { createServer, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A local stand-in for OpenAI's Chat Completions API on 127.0.0.1 (OpenAI itself cannot run
 * here), answering in the real wire format: usage with cached and reasoning token details, tool
 * calls, and SSE streams whose last chunk carries the usage. Each request takes the next
 * scripted reply; the requests are recorded for assertions.
 */
export type Usage = { prompt: number; completion: number; cached?: number; reasoning?: number }

export type Reply =
  | { kind: 'text'; text: string; usage: Usage }
  | { kind: 'tool-call'; name: string; arguments: Record<string, unknown>; usage: Usage }
  | { kind: 'error'; status: number; message: string }
  /** A stream of text chunks; `endless` keeps sending until the client goes away. */
  | { kind: 'stream'; chunks: string[]; usage: Usage; delayMs?: number; endless?: boolean }

export class OpenAICompatibleServer {
  readonly requests: Array<{ path: string; body: Record<string, unknown> }> = []
  /** Chunks written to streams, to compare with what a client saw before it aborted. */
  streamedChunks = 0
  private readonly replies: Reply[] = []
  private readonly server = createServer((request, response) => {
    let text = ''
    request.on('data', (chunk) => {
      text += chunk
    })
    request.on('end', () => {
      const body = text ? (JSON.parse(text) as Record<string, unknown>) : {}
      this.requests.push({ path: request.url ?? '', body })
      void this.answer(body, response)
    })
  })

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`
  }

  /** Queues the replies for the next requests, in order. */
  reply(...replies: Reply[]): void {
    this.replies.push(...replies)
  }

  async close(): Promise<void> {
    this.server.closeAllConnections()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private async answer(body: Record<string, unknown>, response: ServerResponse): Promise<void> {
    const reply = this.replies.shift()
    const model = String(body.model ?? 'unknown')
    if (!reply)
      return json(response, 500, {
        error: { message: 'no reply scripted for this request', type: 'server_error' },
      })
    if (reply.kind === 'error') {
      return json(response, reply.status, {
        error: { message: reply.message, type: 'server_error', code: null },
      })
    }
    if (reply.kind === 'stream') return this.stream(reply, model, response)
    const message =
      reply.kind === 'text'
        ? { role: 'assistant', content: reply.text }
        : {
            role: 'assistant',
            content: null,
            tool_calls: [
              {
                id: 'call_1',
                type: 'function',
                function: { name: reply.name, arguments: JSON.stringify(reply.arguments) },
              },
            ],
          }
    json(response, 200, {
      id: 'chatcmpl-test',
      object: 'chat.completion',
      created: Math.floor(Date.now() / 1000),
      model,
      choices: [
        { index: 0, message, finish_reason: reply.kind === 'text' ? 'stop' : 'tool_calls' },
      ],
      usage: usageBody(reply.usage),
    })
  }

  private async stream(
    reply: Extract<Reply, { kind: 'stream' }>,
    model: string,
    response: ServerResponse,
  ): Promise<void> {
    response.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    })
    const chunk = (choices: unknown[], extra: Record<string, unknown> = {}) =>
      `data: ${JSON.stringify({ id: 'chatcmpl-test', object: 'chat.completion.chunk', created: 1, model, choices, ...extra })}\n\n`
    let closed = false
    response.on('close', () => {
      closed = true
    })
    response.write(
      chunk([{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }]),
    )
    for (let index = 0; reply.endless || index < reply.chunks.length; index++) {
      if (closed) return
      if (reply.delayMs) await new Promise((resolve) => setTimeout(resolve, reply.delayMs))
      if (closed) return
      const content = reply.chunks[index % reply.chunks.length] as string
      response.write(chunk([{ index: 0, delta: { content }, finish_reason: null }]))
      this.streamedChunks++
      if (reply.endless && index > 10_000) break
    }
    response.write(chunk([{ index: 0, delta: {}, finish_reason: 'stop' }]))
    response.write(chunk([], { usage: usageBody(reply.usage) }))
    response.end('data: [DONE]\n\n')
  }
}

function usageBody(usage: Usage) {
  return {
    prompt_tokens: usage.prompt,
    completion_tokens: usage.completion,
    total_tokens: usage.prompt + usage.completion,
    prompt_tokens_details: { cached_tokens: usage.cached ?? 0 },
    completion_tokens_details: { reasoning_tokens: usage.reasoning ?? 0 },
  }
}

function json(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' })
  response.end(JSON.stringify(body))
}
