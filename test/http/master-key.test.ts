import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import { loadConfig } from '../../src/config.js'
import { generateMasterKey, MasterKeyError } from '../../src/crypto/master-key.js'
import { totpCode } from '../../src/crypto/totp.js'
import type { AccountId } from '../../src/domain/types.js'
import { registerWebhook, sealedForEndpoint } from '../../src/domain/webhooks.js'
import { masterKeyStatus, resealSecondFactorSecrets, resealServerKeys, resealWebhookSecrets } from '../../src/domain/master-key-rotation.js'
import { beginTotpEnrollment, checkSecondFactor, confirmTotpEnrollment } from '../../src/domain/second-factor.js'
import { createUser } from '../../src/domain/users.js'
import { startServer } from '../../src/server.js'
import { openServices } from '../../src/services.js'
import { cleanup } from '../helpers/cleanup.js'
import { createTestDatabase, describeEachDialect } from '../helpers/dialects.js'
import { seedClient, tempDir } from '../helpers/server.js'

async function open(t: TestContext, url: string, current: string, previous: string[] = []) {
  const config = loadConfig({ db: url, port: 0, logLevel: 'silent' }, { KEYMINT_MASTER_KEY: current, KEYMINT_PREVIOUS_MASTER_KEYS: previous.join(',') })
  const services = await openServices(config)
  return { config, services }
}

describeEachDialect('master key rotation', (dialect) => {
  test('rotate to a new master key without breaking key pairs, signing keys or second factors', async (t) => {
    const db = await createTestDatabase(t, dialect, tempDir(t))
    const oldKey = generateMasterKey()
    const newKey = generateMasterKey()
    // A clock of the test's own for the second factor: each check a step after the last.
    let now = Date.UTC(2030, 0, 1, 0, 0, 10)
    const clock = { now: () => new Date(now) }

    const first = await open(t, db.url, oldKey)
    const firstServer = await startServer(first.config, { services: first.services })
    const c = await seedClient(first.services)
    const user = await createUser(first.services, { accountId: c.accountId, email: 'ada@example.com' })
    const { secret } = await beginTotpEnrollment({ ...first.services, clock }, { user })
    await confirmTotpEnrollment({ ...first.services, clock }, { user, code: totpCode(secret, clock.now()) })
    const hook = await registerWebhook({ ...first.services, policy: { allowLoopback: false } }, { accountId: c.accountId as AccountId, url: 'https://hooks.example.com/k', events: ['key_pair.revoked'] })
    await firstServer.close()

    await assert.rejects(open(t, db.url, newKey), MasterKeyError, 'a wrong key opens nothing')

    const during = await open(t, db.url, newKey, [oldKey])
    const status = () => masterKeyStatus({ ...during.services, currentOnly: during.services.currentOnlySealer })
    assert.deepEqual(await status(), { serverKeysToReseal: 2, keyPairsToRehash: 1, secondFactorSecretsToReseal: 1, webhookSecretsToReseal: 1 })
    now += 30_000
    assert.deepEqual(await checkSecondFactor({ ...during.services, clock }, { user, otp: totpCode(secret, clock.now()) }), { method: 'totp' }, 'opens while the previous key is given')
    const server = await startServer(during.config, { services: during.services })
    cleanup(t, () => server.close())
    const res = await fetch(`${server.url}/auth/oauth`, { method: 'POST', headers: { clientId: c.clientId, clientSecret: c.clientSecret } })
    assert.equal(res.status, 200, 'an old secret works while the previous key is given')
    let rehashed = await status()
    for (let i = 0; i < 50 && rehashed.keyPairsToRehash > 0; i++) {
      await new Promise((resolve) => setImmediate(resolve))
      rehashed = await status()
    }
    assert.equal(rehashed.keyPairsToRehash, 0, 'the secret was re-hashed at its use')
    assert.equal(await resealServerKeys(during.services), 2)
    assert.equal(await resealSecondFactorSecrets(during.services), 1)
    assert.equal(await resealWebhookSecrets(during.services), 1)
    assert.deepEqual(await status(), { serverKeysToReseal: 0, keyPairsToRehash: 0, secondFactorSecretsToReseal: 0, webhookSecretsToReseal: 0 })
    await server.close()

    const after = await open(t, db.url, newKey)
    const finalServer = await startServer(after.config, { services: after.services })
    cleanup(t, () => finalServer.close())
    const again = await fetch(`${finalServer.url}/auth/oauth`, { method: 'POST', headers: { clientId: c.clientId, clientSecret: c.clientSecret } })
    assert.equal(again.status, 200, 'the old key can be dropped')
    now += 30_000
    assert.deepEqual(await checkSecondFactor({ ...after.services, clock }, { user, otp: totpCode(secret, clock.now()) }), { method: 'totp' }, 'the second factor too')
    const [sealed] = await after.services.store.webhooks.listSealedSecrets()
    assert.equal(after.services.sealer.unseal(sealed?.secretSealed ?? '', sealedForEndpoint(hook.endpoint.id)), hook.secret, 'and the webhook secret')
  })
})
