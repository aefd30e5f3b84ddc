// A real OpenID provider for the integration tests: panva's oidc-provider (pinned in
// package.json / package-lock.json), configured with client credentials and resource
// indicators so its token endpoint issues RFC 9068 JWT access tokens. Its JWKS is at /jwks.
//
// Usage: node server.mjs '<settings JSON>'. It listens on 127.0.0.1 on a port the kernel
// picks, then prints one line {"issuer": ..., "port": ...} and serves until killed.
// Settings (all optional):
//   clients:   [{client_id, client_secret}]     clients allowed the client_credentials grant
//   resources: {"<indicator>": {format: "jwt" | "opaque" | "jwe", scope: "a b", alg: "RS256"}}
//   claims:    {"<client_id>": {...}}            extra claims in that client's access tokens
import * as crypto from 'node:crypto';
import * as http from 'node:http';

import Provider, { errors } from 'oidc-provider';

const settings = JSON.parse(process.argv[2] || '{}');
const clients = settings.clients ?? [{ client_id: 'spa', client_secret: 'spa-secret' }];
const resources = settings.resources ?? {
  'https://api.example.test': { format: 'jwt', scope: 'read:data write:admin' },
};
const claims = settings.claims ?? {};

function signingKey(kid, type, options) {
  const { privateKey } = crypto.generateKeyPairSync(type, options);
  return { ...privateKey.export({ format: 'jwk' }), kid, use: 'sig' };
}

// Keys the provider signs with; its /jwks publishes their public halves.
const jwks = {
  keys: [
    signingKey('op-rsa', 'rsa', { modulusLength: 2048 }),
    signingKey('op-ec', 'ec', { namedCurve: 'P-256' }),
  ],
};
// The resource server's own key for encrypted (JWE) access tokens: jwt-guard never has it.
const encryptionKey = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;

function resourceServer(indicator) {
  const r = resources[indicator];
  if (!r) return undefined;
  const info = { scope: r.scope ?? '', audience: indicator, accessTokenTTL: r.ttl ?? 300 };
  if (r.format === 'opaque') return { ...info, accessTokenFormat: 'opaque' };
  const jwt = { sign: { alg: r.alg ?? 'RS256' } };
  if (r.format === 'jwe') {
    jwt.encrypt = { alg: 'RSA-OAEP-256', enc: 'A256GCM', key: encryptionKey };
  }
  return { ...info, accessTokenFormat: 'jwt', jwt };
}

const server = http.createServer();
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address();
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: clients.map((c) => ({
      client_id: c.client_id,
      client_secret: c.client_secret,
      grant_types: ['client_credentials'],
      redirect_uris: [],
      response_types: [],
    })),
    jwks,
    features: {
      clientCredentials: { enabled: true },
      devInteractions: { enabled: false },
      resourceIndicators: {
        enabled: true,
        defaultResource: (_ctx, _client, oneOf) => oneOf,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator) => {
          const info = resourceServer(indicator);
          if (!info) throw new errors.InvalidTarget();
          return info;
        },
      },
    },
    extraTokenClaims: (_ctx, token) => claims[token.clientId],
    scopes: [...new Set(Object.values(resources).flatMap((r) => (r.scope ?? '').split(' ')))].filter(Boolean),
  });
  provider.on('server_error', (_ctx, err) => console.error('oidc-provider server_error', err));
  server.on('request', provider.callback());
  console.log(JSON.stringify({ issuer, port }));
});

process.on('SIGTERM', () => server.close(() => process.exit(0)));
