import { Type, type Static, type TSchema, type TUnsafe } from 'typebox'

// TypeBox builds the JSON Schemas Fastify validates and serializes with; Static<> gives handlers
// the matching TypeScript types. These helpers keep a few shapes exactly as they were written
// before TypeBox (`type: [T, 'null']`, bare `type: 'string'` enums), so validation, coercion
// and serialization are unchanged.

/**
 * A reference to a shared schema (one registered with `app.addSchema`, so listed once under
 * the OpenAPI document's `components.schemas`), typed as the schema it points to.
 */
export function refTo<T extends TSchema>(component: T): TUnsafe<Static<T>> {
  const id = (component as { $id?: unknown }).$id
  if (typeof id !== 'string') throw new Error('refTo needs a schema with an $id')
  return Type.Unsafe<Static<T>>({ $ref: `${id}#` })
}

/** `{ type: [T, 'null'] }`: T or null; `description` replaces the schema's own. */
export function Nullable<T extends TSchema & { type: string }>(schema: T, description?: string): TUnsafe<Static<T> | null> {
  return Type.Unsafe<Static<T> | null>({ ...schema, type: [schema.type, 'null'], ...(description === undefined ? {} : { description }) })
}

/** A string out of a fixed set: `{ type: 'string', enum }`, for responses. */
export function StringEnum<const V extends string>(values: readonly V[], options: { description?: string } = {}): TUnsafe<V> {
  return Type.Unsafe<V>({ type: 'string', enum: [...values], ...options })
}

/** One JSON response: its schema and an example, for the serializer and the OpenAPI document. */
export function jsonResponse<T extends TSchema>(description: string, schema: T, example: Static<T>) {
  return { description, content: { 'application/json': { schema, example } } }
}
