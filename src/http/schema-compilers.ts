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
const validatorsByShared = new Map<string, ReturnType<typeof selectValidator>>()

// Fastify asks for a compiler once per plugin context (some forty times per app), each time with
// a new object of the shared schemas, whose contents are the app's own copies of them. The
// compilers' pools tell shared schemas apart by writing them out as JSON (~10 KB) on every ask;
// here that is done once per app: later asks are known by the identities of the copies.
const objectIds = new WeakMap<object, number>()
let nextObjectId = 0
const contentByIdentities = new Map<string, string>()
const sameContent = new Map<string, string>()

function sharedKey(externalSchemas: unknown, options: unknown): string {
  const identities = Object.entries(externalSchemas ?? {}).map(([name, schema]) => {
    if (typeof schema !== 'object' || schema === null) return `${name}=${JSON.stringify(schema)}`
    let id = objectIds.get(schema)
    if (id === undefined) objectIds.set(schema, id = nextObjectId++)
    return `${name}#${id}`
  }).join(',') + JSON.stringify(options)
  let key = contentByIdentities.get(identities)
  if (key === undefined) {
    const content = JSON.stringify([externalSchemas, options])
    // One string per content, so that a Map hashes it once.
    key = sameContent.get(content) ?? content
    sameContent.set(key, key)
    contentByIdentities.set(identities, key)
  }
  return key
}

const buildValidator: ValidatorFactory = (externalSchemas, options) => {
  // Pooled as the compiler pools them: by the shared schemas and Ajv's options.
  const key = sharedKey(externalSchemas, options?.customOptions)
  let compile = validatorsByShared.get(key)
  if (!compile) validatorsByShared.set(key, compile = selectValidator(externalSchemas, options))
  return (route) => compile(route.httpPart === 'headers' && typeof route.schema === 'object'
    ? { ...route, schema: withLowerCaseNames(route.schema) }
    : route)
}

const selectSerializer = SerializerSelector()
// By the schema object first (most routes share module constants), then by its content.
const serializersBySchema = new WeakMap<object, Map<string, Serializer>>()
const serializersByContent = new Map<string, Map<string, Serializer>>()

const buildSerializer: SerializerFactory = (externalSchemas, options) => {
  const compile = selectSerializer(externalSchemas, options)
  const shared = sharedKey(externalSchemas, options)
  let byContent = serializersByContent.get(shared)
  if (!byContent) serializersByContent.set(shared, byContent = new Map())
  const sameShared = byContent
  return (route) => {
    const schema = route.schema as object
    let forSchema = serializersBySchema.get(schema)
    if (!forSchema) serializersBySchema.set(schema, forSchema = new Map())
    let serializer = forSchema.get(shared)
    if (!serializer) {
      const content = JSON.stringify(schema)
      serializer = sameShared.get(content)
      if (!serializer) sameShared.set(content, serializer = compile(route))
      forSchema.set(shared, serializer)
    }
    return serializer
  }
}

/** For Fastify's `schemaController` option. */
export const compilersFactory = { buildValidator, buildSerializer }
