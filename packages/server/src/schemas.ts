import { projectConfigSchema, textSchema } from 'credly/internal'
import { z } from 'zod'

/*
 * Wire schemas of the admin endpoints, which only the server and the CLI speak. The usage, user
 * and transaction schemas come from `credly`, shared with the client.
 */

export const projectSchema = z.object({
  id: z.string(),
  config: projectConfigSchema,
  created_at: z.string(),
})

export const apiKeyScopeSchema = z.enum(['admin', 'metering'])

export const createApiKeyRequestSchema = z
  .object({
    scope: apiKeyScopeSchema,
    /** A label for people, e.g. `production web`. */
    name: textSchema('name', { min: 1, max: 100 }).optional(),
  })
  .strict()

export const apiKeySchema = z.object({
  id: z.string(),
  name: z.string().nullable(),
  scope: apiKeyScopeSchema,
  prefix: z.string(),
  created_at: z.string(),
  revoked_at: z.string().nullable(),
})

/** A new key: the only response that ever carries its secret. */
export const createdApiKeySchema = apiKeySchema.extend({ key: z.string() })

export const apiKeyListSchema = z.object({ data: z.array(apiKeySchema) })

export const revokedApiKeySchema = z.object({ id: z.string(), revoked: z.literal(true) })

export const verifyReportSchema = z.object({
  ok: z.boolean(),
  project_id: z.string(),
  checked: z.record(z.string(), z.number()),
  totals: z.record(z.string(), z.number()),
  differences: z.array(z.looseObject({ subject: z.string(), id: z.string(), message: z.string() })),
})

export const healthSchema = z.object({
  status: z.literal('ok'),
  store: z.string(),
  version: z.string(),
})
