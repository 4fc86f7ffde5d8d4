import assert from 'node:assert/strict'
import { test } from 'node:test'
import { base32Decode, base32Encode, Base32Error } from './base32.js'
import { generateTotpSecret, hotp, otpauthUri, totpCode, totpStep, verifyTotp } from './totp.js'

// RFC 6238 Appendix B and RFC 4226 Appendix D use the ASCII key "12345678901234567890".
const RFC_KEY = Buffer.from('12345678901234567890')
const RFC_SECRET = base32Encode(RFC_KEY, { padding: false })

test('base32: the RFC 4648 §10 test vectors, both ways', () => {
  const vectors: [string, string][] = [
    ['', ''], ['f', 'MY======'], ['fo', 'MZXQ===='], ['foo', 'MZXW6==='], ['foob', 'MZXW6YQ='], ['fooba', 'MZXW6YTB'], ['foobar', 'MZXW6YTBOI======'],
  ]
  for (const [plain, encoded] of vectors) {
    assert.equal(base32Encode(Buffer.from(plain)), encoded, plain)
    assert.equal(base32Decode(encoded).toString(), plain, encoded)
    assert.equal(base32Decode(encoded.replace(/=+$/, '').toLowerCase()).toString(), plain, `${encoded} unpadded, lower case`)
  }
  assert.equal(base32Encode(Buffer.from('foobar'), { padding: false }), 'MZXW6YTBOI')
  assert.equal(base32Decode('MZXW 6YTB OI').toString(), 'foobar', 'spaces ignored')
  for (const bad of ['M', 'MZX', 'MZXW6Y', 'MZ1Q', 'MZ!Q', 'MZ']) assert.throws(() => base32Decode(bad), Base32Error, bad)
})

test('HOTP: the RFC 4226 Appendix D values', () => {
  const expected = ['755224', '287082', '359152', '969429', '338314', '254676', '287922', '162583', '399871', '520489']
  assert.deepEqual(expected.map((_, count) => hotp(RFC_KEY, count)), expected)
})

test('TOTP: the RFC 6238 Appendix B SHA-1 values (8 digits, and their last 6 as apps show them)', () => {
  const vectors: [number, string, number][] = [
    [59, '94287082', 1],
    [1111111109, '07081804', 0x23523EC],
    [1111111111, '14050471', 0x23523ED],
    [1234567890, '89005924', 0x273EF07],
    [2000000000, '69279037', 0x3F940AA],
    [20000000000, '65353130', 0x27BC86AA],
  ]
  for (const [seconds, code, step] of vectors) {
    const at = new Date(seconds * 1000)
    assert.equal(totpStep(at), step, `T at ${seconds}`)
    assert.equal(totpCode(RFC_SECRET, at, 8), code, `${seconds}`)
    assert.equal(totpCode(RFC_SECRET, at), code.slice(2), `${seconds}, 6 digits`)
  }
})

test('verifyTotp accepts the steps next to now and returns the one matched; anything else is undefined', () => {
  const now = new Date(1111111111 * 1000)
  const step = totpStep(now)
  const codeAt = (offset: number) => totpCode(RFC_SECRET, new Date(now.getTime() + offset * 30_000))
  assert.equal(verifyTotp(RFC_SECRET, codeAt(0), now), step)
  assert.equal(verifyTotp(RFC_SECRET, codeAt(-1), now), step - 1, 'one step late')
  assert.equal(verifyTotp(RFC_SECRET, codeAt(1), now), step + 1, 'one step early')
  assert.equal(verifyTotp(RFC_SECRET, codeAt(-2), now), undefined, 'two steps late')
  assert.equal(verifyTotp(RFC_SECRET, codeAt(2), now), undefined, 'two steps early')
  assert.equal(verifyTotp(RFC_SECRET, codeAt(-2), now, { window: 2 }), step - 2)
  assert.equal(verifyTotp(RFC_SECRET, ` ${codeAt(0).slice(0, 3)} ${codeAt(0).slice(3)} `, now), step, 'spaces ignored')
  for (const bad of ['', '12345', '1234567', 'abcdef', '٠١٢٣٤٥', totpCode(RFC_SECRET, now, 8)]) {
    assert.equal(verifyTotp(RFC_SECRET, bad, now), undefined, JSON.stringify(bad))
  }
})

test('generateTotpSecret: 160 random bits, base32 without padding', () => {
  const a = generateTotpSecret()
  assert.match(a, /^[A-Z2-7]{32}$/)
  assert.equal(base32Decode(a).length, 20)
  assert.notEqual(generateTotpSecret(), a)
})

test('otpauthUri: issuer in the label and as a parameter, every part escaped', () => {
  assert.equal(
    otpauthUri({ issuer: 'keymint', account: 'ada@example.com', secret: 'JBSWY3DPEHPK3PXP' }),
    'otpauth://totp/keymint:ada%40example.com?secret=JBSWY3DPEHPK3PXP&issuer=keymint&algorithm=SHA1&digits=6&period=30',
  )
  const uri = new URL(otpauthUri({ issuer: 'Acme: Ops & Co', account: 'a+b@example.com', secret: 'JBSWY3DPEHPK3PXP' }))
  assert.equal(decodeURIComponent(uri.pathname), '/Acme  Ops & Co:a+b@example.com')
  assert.equal(uri.searchParams.get('issuer'), 'Acme  Ops & Co')
  assert.ok(!uri.search.includes('+'), 'spaces as %20, which every app reads')
})
