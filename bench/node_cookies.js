// Node side of `make bench` (cookies). The per-call figures use the real @civitai/app-sdk
// 0.14 `sealCookie`/`unsealCookie` when tests/auth/node has it installed (`make bench` does);
// otherwise the same algorithm with node:crypto directly (AES-256-GCM, scrypt N=16384 r=8
// p=1, iv:tag:ct hex), so only `node` is needed. The cached-key figures always use
// node:crypto (the SDK has no cached-key API). Prints one JSON object of operations/second.
'use strict';
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const { createCipheriv, createDecipheriv, randomBytes, scryptSync } = require('node:crypto');

const SDK_COOKIES = path.join(
  __dirname, '..', 'tests', 'auth', 'node', 'node_modules', '@civitai', 'app-sdk', 'dist', 'cookies', 'index.js',
);

async function loadSdk() {
  try {
    return await import(pathToFileURL(SDK_COOKIES).href);
  } catch {
    return null;
  }
}

const SALT = 'civitai-app-sdk-cookie-salt';
const SECRET = 'bench-secret-0123456789abcdef';
const VALUE = JSON.stringify({
  access_token: 'civitai_0123456789abcdef0123456789abcdef0123',
  refresh_token: 'civitai_fedcba9876543210fedcba9876543210fedc',
  expires_at: 1767225600000,
  scope: 114689,
  token_type: 'Bearer',
});

const deriveKey = (secret) => scryptSync(secret, SALT, 32);

function seal(value, key) {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  const ct = Buffer.concat([cipher.update(value, 'utf8'), cipher.final()]);
  return `${iv.toString('hex')}:${cipher.getAuthTag().toString('hex')}:${ct.toString('hex')}`;
}

function unseal(sealed, key) {
  try {
    const parts = sealed.split(':');
    if (parts.length !== 3 || !parts[0] || !parts[1] || !parts[2]) return null;
    const iv = Buffer.from(parts[0], 'hex');
    const tag = Buffer.from(parts[1], 'hex');
    if (iv.length !== 12 || tag.length !== 16) return null;
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(Buffer.from(parts[2], 'hex')), decipher.final()]).toString('utf8');
  } catch {
    return null;
  }
}

function rate(fn, seconds) {
  for (let i = 0; i < 3; i++) fn(); // warm up
  let n = 0;
  const start = process.hrtime.bigint();
  const limit = BigInt(Math.round(seconds * 1e9));
  let elapsed = 0n;
  do {
    fn();
    n++;
    elapsed = process.hrtime.bigint() - start;
  } while (elapsed < limit);
  return n / (Number(elapsed) / 1e9);
}

const key = deriveKey(SECRET);
const sealed = seal(VALUE, key);
// Well-formed garbage: right lengths, random bytes. The SDK derives a key before rejecting it.
const garbage = `${randomBytes(12).toString('hex')}:${randomBytes(16).toString('hex')}:${randomBytes(64).toString('hex')}`;
if (unseal(sealed, key) !== VALUE || unseal(garbage, key) !== null) throw new Error('self-check failed');

const slow = Number(process.argv[2] || 1.5);
const fast = Number(process.argv[3] || 1.0);

loadSdk().then((sdk) => {
  const sealPerCall = sdk ? () => sdk.sealCookie(VALUE, SECRET) : () => seal(VALUE, deriveKey(SECRET));
  const unsealPerCall = sdk
    ? (value) => sdk.unsealCookie(value, SECRET)
    : (value) => unseal(value, deriveKey(SECRET));
  if (sdk && (sdk.unsealCookie(sealed, SECRET) !== VALUE || sdk.unsealCookie(garbage, SECRET) !== null)) {
    throw new Error('SDK self-check failed');
  }
  console.log(JSON.stringify({
    node: process.version,
    source: sdk ? '@civitai/app-sdk' : 'node:crypto replica',
    seal_scrypt_per_call: rate(sealPerCall, slow),
    unseal_scrypt_per_call: rate(() => unsealPerCall(sealed), slow),
    unseal_garbage_scrypt_per_call: rate(() => unsealPerCall(garbage), slow),
    seal_cached_key: rate(() => seal(VALUE, key), fast),
    unseal_cached_key: rate(() => unseal(sealed, key), fast),
  }));
});
