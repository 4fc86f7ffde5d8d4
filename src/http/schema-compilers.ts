import { AjvCompiler } from '@fastify/ajv-compiler'
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler'

// Fastify compiles every route's validators and response serializers afresh for each app it
// builds, and that was two thirds of what starting one cost. Both are pure functions of the
// route's schema, the shared schemas and the options, so a process that builds the app more
// than once (the test suite builds hundreds) compiles each once.

type ValidatorFactory = ReturnType<typeof AjvCompiler>
type SerializerFactory = ReturnType<typeof SerializerSelector>
type Serializer = ReturnType<ReturnType<SerializerFactory>>

// Request headers arrive with lower-case names. Fastify lower-cases the names a headers schema
// uses, but not for a validator compiler of one's own, so this one does: in `properties` and
// `required`, the only keywords keymint's header schemas use. Any other keyword that could name
// a header stops the start rather than let a check silently never match.
const HEADER_SCHEMA_KEYWORDS = new Set(['type', 'properties', 'required', 'additionalProperties', 'description', 'title'])
const lowerCased = new WeakMap<object, object>()

function withLowerCaseNames(schema: object): object {
  let lower = lowerCased.get(schema)
  if (lower) return lower
  const { properties, required } = schema as { properties?: Record<string, unknown>; required?: string[] }
  const other = Object.keys(schema).find((keyword) => !HEADER_SCHEMA_KEYWORDS.has(keyword))
  if (other !== undefined) throw new Error(`a headers schema uses "${other}", which schema-compilers.ts does not lower-case`)
  lower = {
    ...schema,
    ...(properties ? { properties: Object.fromEntries(Object.entries(properties).map(([name, value]) => [name.toLowerCase(), value])) } : {}),
    ...(required ? { required: required.map((name) => name.toLowerCase()) } : {}),
  }
  lowerCased.set(schema, lower)
  return lower
}

// One Ajv per shared schemas and options for the whole process; Ajv keeps each schema it
// compiled by the schema object, which routes define once as module constants.
const selectValidator = AjvCompiler()

const buildValidator: ValidatorFactory = (externalSchemas, options) => {
  const compile = selectValidator(externalSchemas, options)
  return (route) => compile(route.httpPart === 'headers' && typeof route.schema === 'object'
    ? { ...route, schema: withLowerCaseNames(route.schema) }
    : route)
}

const selectSerializer = SerializerSelector()
// By the schema object first (most routes share module constants), then by its content.
const serializersBySchema = new WeakMap<object, Map<string, Serializer>>()
const serializersByContent = new Map<string, Serializer>()

const buildSerializer: SerializerFactory = (externalSchemas, options) => {
  const compile = selectSerializer(externalSchemas, options)
  const shared = JSON.stringify([externalSchemas, options])
  return (route) => {
    const schema = route.schema as object
    let forSchema = serializersBySchema.get(schema)
    if (!forSchema) serializersBySchema.set(schema, forSchema = new Map())
    let serializer = forSchema.get(shared)
    if (!serializer) {
      const key = `${shared}\n${JSON.stringify(schema)}`
      serializer = serializersByContent.get(key)
      if (!serializer) { serializersByContent.set(key, serializer = compile(route)) }
      forSchema.set(shared, serializer)
    }
    return serializer
  }
}

/** For Fastify's `schemaController` option. */
export const compilersFactory = { buildValidator, buildSerializer }
