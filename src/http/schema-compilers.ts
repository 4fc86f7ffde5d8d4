import { SerializerSelector } from '@fastify/fast-json-stringify-compiler'

// Fastify compiles every route's response serializers afresh for each app it builds, and that
// was half of what starting one cost. A serializer is a pure function of the route's schema, the
// shared schemas and the options, so a process that builds the app more than once (the test
// suite builds hundreds) compiles each once. (Validators stay Fastify's own: a custom validator
// compiler turns off its lower-casing of header schemas, which the header dialect relies on.)

type SerializerFactory = ReturnType<typeof SerializerSelector>
type Serializer = ReturnType<ReturnType<SerializerFactory>>

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
export const compilersFactory = { buildSerializer }
