import type { OperationNode } from 'kysely'

/**
 * What a write changed of the rows a credential is read from (key pair, client, user, account):
 * `k:<id>`, `c:<id>`, `u:<id>` or `a:<id>`, or `*` when the rows cannot be told. The same strings
 * travel in PostgreSQL notifications (see migration 0015), so every instance reads them alike.
 */
export type CredentialSubject = `${'k' | 'c' | 'u' | 'a'}:${string}` | '*'

const PREFIX: Readonly<Record<string, 'k' | 'c' | 'u' | 'a'>> = { key_pairs: 'k', clients: 'c', users: 'u', accounts: 'a' }

/**
 * Columns whose change alone never changes what a credential allows (usage counters, sign-in
 * secrets of people). Everything else counts, new columns included: when unsure, it changed.
 */
const INERT: Readonly<Record<string, ReadonlySet<string>>> = {
  key_pairs: new Set(['last_used_at', 'last_used_address', 'last_used_user_agent', 'tokens_issued']),
  users: new Set(['password_hash', 'password_change_required', 'updated_at', 'totp_secret_sealed', 'totp_enabled_at', 'totp_last_step']),
  clients: new Set(),
  accounts: new Set(),
}

const SUBJECT = /^[kcua]:[\w-]{1,64}$/

/** A subject as received from elsewhere (a notification); anything unexpected reads as `*`. */
export function parseCredentialSubject(text: string | undefined): CredentialSubject {
  return text !== undefined && SUBJECT.test(text) ? text as CredentialSubject : '*'
}

type Node = OperationNode & Record<string, unknown>

const isNode = (value: unknown): value is Node => typeof value === 'object' && value !== null && typeof (value as Node).kind === 'string'

function tableName(node: unknown): string | undefined {
  if (!isNode(node)) return undefined
  if (node.kind === 'AliasNode') return tableName(node.node)
  if (node.kind !== 'TableNode') return undefined
  const identifier = (node.table as { identifier?: { name?: unknown } } | undefined)?.identifier?.name
  return typeof identifier === 'string' ? identifier : undefined
}

function columnName(node: unknown): string | undefined {
  if (!isNode(node)) return undefined
  if (node.kind === 'ReferenceNode') return node.table === undefined ? columnName(node.column) : undefined
  if (node.kind !== 'ColumnNode') return undefined
  const name = (node.column as { name?: unknown } | undefined)?.name
  return typeof name === 'string' ? name : undefined
}

function stringValues(node: unknown): string[] | undefined {
  if (!isNode(node)) return undefined
  const values = node.kind === 'ValueNode' ? [node.value]
    : node.kind === 'PrimitiveValueListNode' ? node.values as unknown[]
      : node.kind === 'ValueListNode' ? (node.values as unknown[]).map((v) => (isNode(v) && v.kind === 'ValueNode' ? v.value : undefined))
        : undefined
  return values?.every((v) => typeof v === 'string') ? values as string[] : undefined
}

/** The ids a `where` confines the write to (`id = …`, `id in (…)`, within an `and`), if it does. */
function idsOf(node: unknown): string[] | undefined {
  if (!isNode(node)) return undefined
  switch (node.kind) {
    case 'WhereNode': return idsOf(node.where)
    case 'ParensNode': return idsOf(node.node)
    case 'AndNode': return idsOf(node.left) ?? idsOf(node.right)
    case 'BinaryOperationNode': {
      const operator = (node.operator as { operator?: unknown } | undefined)?.operator
      if (columnName(node.leftOperand) !== 'id' || (operator !== '=' && operator !== 'in')) return undefined
      return stringValues(node.rightOperand)
    }
    default: return undefined
  }
}

function subjectsOf(table: string, where: unknown, out: Set<CredentialSubject>): void {
  const prefix = PREFIX[table]
  if (prefix === undefined) return
  const ids = idsOf(where)
  if (ids === undefined) out.add('*')
  else for (const id of ids) out.add(`${prefix}:${id}`)
}

const WRITE = /^\s*(?:with\b[\s\S]*\b)?(?:update|delete|insert|replace|merge|upsert|truncate)\b/i
const CREDENTIAL_TABLE = /\b(?:key_pairs|clients|users|accounts)\b/i

/**
 * What a query may change of the credential rows, read from its Kysely operation tree; nothing
 * for reads and for writes to other tables. Writes it cannot confine to ids (raw SQL, joins,
 * upserts) give `*`.
 */
export function credentialChangesOf(query: OperationNode, out: Set<CredentialSubject> = new Set()): Set<CredentialSubject> {
  const node = query as Node
  const withNode = node.with as { expressions?: unknown[] } | undefined
  for (const cte of withNode?.expressions ?? []) {
    const expression = isNode(cte) ? cte.expression : undefined
    if (isNode(expression)) credentialChangesOf(expression, out)
  }
  switch (node.kind) {
    case 'UpdateQueryNode': {
      const table = tableName(node.table)
      if (table === undefined) {
        // update … from several tables: cannot tell which.
        if (node.table !== undefined) out.add('*')
        break
      }
      if (PREFIX[table] === undefined) break
      const updates = (node.updates as unknown[] | undefined) ?? []
      const inert = INERT[table] ?? new Set()
      if (updates.length > 0 && updates.every((u) => isNode(u) && inert.has(columnName(u.column) ?? ''))) break
      if (node.from !== undefined || node.joins !== undefined) out.add('*')
      else subjectsOf(table, node.where, out)
      break
    }
    case 'DeleteQueryNode': {
      const froms = ((node.from as { froms?: unknown[] } | undefined)?.froms ?? []).map(tableName)
      if (!froms.some((t) => t === undefined || PREFIX[t] !== undefined)) break
      if (froms.length !== 1 || froms[0] === undefined || node.using !== undefined || node.joins !== undefined) out.add('*')
      else subjectsOf(froms[0], node.where, out)
      break
    }
    case 'InsertQueryNode': {
      const table = tableName(node.into)
      // A new row changes no credential read before it; one that replaces or updates may.
      if ((table === undefined || PREFIX[table] !== undefined) && (node.onConflict !== undefined || node.onDuplicateKey !== undefined || node.replace === true || node.orAction !== undefined)) out.add('*')
      break
    }
    case 'MergeQueryNode':
      out.add('*')
      break
    case 'RawNode': {
      const text = (node.sqlFragments as string[]).join(' ')
      if (WRITE.test(text) && CREDENTIAL_TABLE.test(text)) out.add('*')
      break
    }
    default:
      break
  }
  return out
}
