// Records what @civitai/app-sdk 0.14.0 produces, for tests/auth/fixtures/.
// Usage (after `npm install` in this folder): node record_fixtures.mjs
import { writeFileSync } from 'node:fs';
import { sealCookie } from '@civitai/app-sdk/cookies';
import { buildAuthorizeUrl, exchangeCode, refreshToken, revokeToken } from '@civitai/app-sdk/oauth';

const here = new URL('../fixtures/', import.meta.url);

const cookies = [
  ['hello', 'correct horse battery staple'],
  ['{"access_token":"civitai_0123456789abcdef0123456789abcdef0123","refresh_token":"civitai_fedcba9876543210fedcba9876543210fedc","expires_at":1767225600000,"scope":114689,"token_type":"Bearer"}', 'session-secret-1'],
  ['héllo wörld ☃ 🎉 日本語', 'ünïcode secret ✓'],
  ['a'.repeat(1000), 's'],
  ['semi;colon, comma\r\nand "quotes"', 'session-secret-1'],
].map(([value, secret]) => ({ value, secret, sealed: sealCookie(value, secret) }));
writeFileSync(new URL('node_sealed_cookies.json', here), JSON.stringify(cookies, null, 2) + '\n');

const authorize = [
  { clientId: 'app_123', redirectUri: 'https://example.com/api/auth/callback/civitai', scope: 98305, state: 'abc-DEF_123', codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSkMw-cM' },
  { clientId: 'weird id ~*!\'()', redirectUri: 'http://localhost:3000/cb?x=1&y=2#frag', scope: 114689, state: 'st~ate with spaces/é', codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSkMw-cM', baseUrl: 'https://civitai.com' },
  { clientId: 'c', redirectUri: 'myapp://callback', scope: 0, state: 's'.repeat(43), codeChallenge: 'x'.repeat(43), baseUrl: 'https://auth.civitai.com' },
].map((input) => ({ input, url: buildAuthorizeUrl(input) }));

// Capture the bodies the token calls send, answering with a canned token response.
const sent = [];
globalThis.fetch = async (url, init) => {
  sent.push({ url: String(url), method: init.method, headers: init.headers, body: String(init.body) });
  return new Response('{"access_token":"a","expires_in":3600,"scope":["1"]}', { status: 200 });
};
const base = { baseUrl: 'https://auth.civitai.com', clientId: 'app_123' };
const requests = [];
for (const [name, fn, opts] of [
  ['exchange_public', exchangeCode, { ...base, code: 'code~1 2', redirectUri: 'https://example.com/cb', codeVerifier: 'dBjftJeZ4CVP-mJ0PT7Ptm8l7d5O7BRZ6l5RD1gwxmE' }],
  ['exchange_confidential', exchangeCode, { ...base, clientSecret: 's3cr*t&=+', code: 'abc', redirectUri: 'https://example.com/cb', codeVerifier: 'dBjftJeZ4CVP-mJ0PT7Ptm8l7d5O7BRZ6l5RD1gwxmE' }],
  ['refresh_public', refreshToken, { ...base, refreshToken: 'civitai_refresh_1' }],
  ['refresh_confidential', refreshToken, { ...base, clientSecret: 'sec', refreshToken: 'civitai_refresh_2' }],
  ['revoke_confidential', revokeToken, { ...base, clientSecret: 'sec', token: 'civitai_tok' }],
]) {
  await fn(opts);
  requests.push({ name, input: opts, ...sent.pop() });
}
writeFileSync(new URL('node_oauth_requests.json', here), JSON.stringify({ authorize, requests }, null, 2) + '\n');
console.log(`recorded ${cookies.length} cookies, ${authorize.length} URLs, ${requests.length} requests`);
