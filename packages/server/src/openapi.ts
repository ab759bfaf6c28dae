import { problemSchema, VERSION } from 'credly/internal'
import { z } from 'zod'
import type { RouteRegistry } from './route.ts'

const jsonSchema = (schema: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' })

/**
 * The OpenAPI 3.0 document, generated from the registered routes and the same zod schemas that
 * validate requests, so it cannot drift from what the server does.
 */
export function buildOpenApiDocument(registry: RouteRegistry): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const route of registry) {
    const path = route.path.replace(/:(\w+)/g, '{$1}')
    const parameters = [...route.path.matchAll(/:(\w+)/g)].map((match) => ({
      name: match[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }))
    if (route.query) {
      const query = jsonSchema(route.query, 'input') as {
        properties?: Record<string, unknown>
        required?: string[]
      }
      for (const [name, schema] of Object.entries(query.properties ?? {})) {
        parameters.push({
          name,
          in: 'query',
          required: query.required?.includes(name) ?? false,
          schema,
        } as never)
      }
    }
    const operation: Record<string, unknown> = {
      operationId: route.operationId,
      summary: route.summary,
      tags: [route.path.split('/')[2] ?? 'system'],
      parameters,
      responses: {
        [String(route.status ?? 200)]: {
          description: 'OK',
          content: { 'application/json': { schema: jsonSchema(route.response, 'output') } },
        },
        default: {
          description: 'A problem (RFC 9457); see docs/problems.md',
          content: {
            'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
          },
        },
      },
    }
    if (route.scope === 'public') operation.security = []
    if (route.scope === 'admin') operation.description = 'Needs an admin key.'
    if (route.body) {
      operation.requestBody = {
        required: true,
        content: { 'application/json': { schema: jsonSchema(route.body, 'input') } },
      }
    }
    paths[path] = { ...paths[path], [route.method]: operation }
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'Credly API',
      version: VERSION,
      description:
        'Meter LLM usage as credits: reserve before a model call, settle after it. Writes accept an ' +
        '`Idempotency-Key` header; errors are RFC 9457 problems.',
    },
    servers: [{ url: '/' }],
    security: [{ apiKey: [] }],
    components: {
      securitySchemes: {
        apiKey: { type: 'http', scheme: 'bearer', description: 'A Credly API key' },
      },
      schemas: { Problem: jsonSchema(problemSchema, 'output') },
    },
    paths,
  }
}
