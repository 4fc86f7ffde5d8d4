import { Type } from 'typebox'

/**
 * A key pair's id. On the wire this is OAuth's `client_id`: what an integration sends to the
 * token endpoints and what its tokens carry (`KeyPairId` in the domain). A client's own `id`
 * (`ClientId`) is another id, used only by the management API.
 */
export const keyPairId = (description = "The key pair's id: the `client_id` an integration presents to the token endpoints (not the client's own `id`).") =>
  Type.String({ description })
