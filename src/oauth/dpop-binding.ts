import type { ClientCredential } from '../domain/types.js'
import { acceptDPoPProof, type AcceptedProof, type DPoPProofDeps, type ProofTarget } from './dpop-proof.js'
import { InvalidDPoPProof } from './errors.js'

export interface DPoPBindingDeps extends DPoPProofDeps {
  /** Notes a refusal for the audit log (batched; never a write on this path). */
  readonly refused: (refusal: { clientId: string; address: string; reason: string; accountId: string | null; detail?: string }) => void
}

export interface BindingRequest {
  /** The `DPoP` header, when the request carried one. */
  readonly proof: string | undefined
  /** The authenticated client. */
  readonly credential: ClientCredential
  readonly target: ProofTarget
  readonly address: string
}

/**
 * The key an authenticated client's token is to be bound to (RFC 9449 §5), or undefined for a
 * bearer token. A client set to require DPoP gets nothing without a proof. Refused proofs of an
 * authenticated client go to the audit log: a replayed one may be a stolen one.
 */
export async function proofOfPossession(deps: DPoPBindingDeps, req: BindingRequest): Promise<AcceptedProof | undefined> {
  const { client, keyPair } = req.credential
  const refused = (reason: string, detail: string | undefined) =>
    deps.refused({ clientId: keyPair.id, address: req.address, reason, accountId: client.accountId, ...(detail === undefined ? {} : { detail }) })
  if (req.proof === undefined) {
    if (!client.requireDPoP) return undefined
    refused('dpop_proof_missing', undefined)
    throw new InvalidDPoPProof('this client gets DPoP-bound tokens only: send a DPoP proof (RFC 9449)', { detail: 'proof_missing' })
  }
  try {
    return await acceptDPoPProof(deps, req.proof, req.target)
  } catch (err) {
    if (err instanceof InvalidDPoPProof) refused(err.detail === 'jti_replayed' ? 'dpop_proof_replayed' : 'dpop_proof_invalid', err.detail)
    throw err
  }
}
