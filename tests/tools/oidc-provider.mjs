// oidc-provider.mjs - a real OpenID provider (npm's oidc-provider, pinned in
// package.json) for the OIDC realm's tests and bench, over HTTPS.
//
//   node tests/tools/oidc-provider.mjs --port N --cert CHAIN.pem --key KEY.pem
//        --redirect-uri URI --client-secret-file F [--auth basic|post]
//
// Issuer https://localhost:N. One confidential client "horcrux" (the
// secret from the file; client_secret_basic unless --auth post), its ID
// tokens RS256. The provider's own developer interactions are the sign-in
// form (login = an account below; any password); consent is granted
// without asking, as a first-party client's would be. Accounts carry a
// "groups" claim, which the daemon's oidc_role_claim reads:
//   alice  groups [hx-admins]     bob    groups [hx-viewers, staff]
//   carol  groups [staff]         (no group the daemon maps)
//
// Test hook for the negative cases: POST /__test/next with a body that is
// one of wrong-aud, expired, unknown-kid, alg-none, other-key,
// wrong-nonce makes the token endpoint's NEXT answer carry an ID token
// that is broken that way (re-signed with the provider's real key, or an
// unrelated one for other-key); the hook is spent by that one answer.
// Prints "listening N" on stdout when it serves.
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import Provider from 'oidc-provider';

const args = {};
for (let i = 2; i < process.argv.length; i += 2)
	args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
for (const k of ['port', 'cert', 'key', 'redirect-uri', 'client-secret-file']) {
	if (!args[k]) {
		process.stderr.write(`oidc-provider.mjs: --${k} is required\n`);
		process.exit(2);
	}
}
const issuer = `https://localhost:${args.port}`;
const secret = fs.readFileSync(args['client-secret-file'], 'utf8').trim();

const accounts = {
	alice: { name: 'Alice Admin', email: 'alice@corp.test', groups: ['hx-admins'] },
	bob: { name: 'Bob Viewer', email: 'bob@corp.test', groups: ['hx-viewers', 'staff'] },
	carol: { name: 'Carol Nobody', email: 'carol@corp.test', groups: ['staff'] },
};

const signing = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...signing.privateKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig', alg: 'RS256' };

const provider = new Provider(issuer, {
	clients: [{
		client_id: 'horcrux',
		client_secret: secret,
		redirect_uris: [args['redirect-uri']],
		response_types: ['code'],
		grant_types: ['authorization_code'],
		token_endpoint_auth_method: args.auth === 'post' ? 'client_secret_post' : 'client_secret_basic',
	}],
	jwks: { keys: [jwk] },
	pkce: { required: () => true },
	scopes: ['openid', 'profile', 'email', 'groups'],
	claims: {
		openid: ['sub'],
		profile: ['preferred_username', 'name'],
		email: ['email'],
		groups: ['groups'],
	},
	// The scope's claims in the ID token itself: the daemon reads no userinfo.
	conformIdTokenClaims: false,
	features: { devInteractions: { enabled: true } },
	cookies: { keys: [crypto.randomBytes(32).toString('hex')] },
	async findAccount(ctx, id) {
		const a = accounts[id];
		if (!a)
			return undefined;
		return {
			accountId: id,
			async claims() {
				return { sub: id, preferred_username: id, ...a };
			},
		};
	},
	async loadExistingGrant(ctx) {
		const grantId = ctx.oidc.result?.consent?.grantId ||
		    ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
		if (grantId)
			return ctx.oidc.provider.Grant.find(grantId);
		const grant = new ctx.oidc.provider.Grant({
			clientId: ctx.oidc.client.clientId,
			accountId: ctx.oidc.session.accountId,
		});
		grant.addOIDCScope('openid profile email groups');
		await grant.save();
		return grant;
	},
});

// Why a token request failed, on stderr (the test's log).
provider.on('grant.error', (ctx, err) => {
	process.stderr.write(`oidc-provider: token: ${err.message}: ${err.error_detail || ''}\n`);
});

const b64 = (b) => Buffer.from(b).toString('base64url');

function forge(idToken, mode) {
	const [h, p] = idToken.split('.');
	const header = JSON.parse(Buffer.from(h, 'base64url'));
	const claims = JSON.parse(Buffer.from(p, 'base64url'));
	const now = Math.floor(Date.now() / 1000);
	let key = signing.privateKey;
	switch (mode) {
	case 'wrong-aud': claims.aud = 'someone-else'; break;
	case 'expired': claims.iat = now - 7200; claims.exp = now - 3600; break;
	case 'unknown-kid': header.kid = 'rotated-away'; break;
	case 'other-key': key = other.privateKey; break;
	case 'wrong-nonce': claims.nonce = 'not-the-nonce'; break;
	case 'alg-none': header.alg = 'none'; break;
	default: throw new Error(`unknown mode ${mode}`);
	}
	const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims))}`;
	if (mode === 'alg-none')
		return `${input}.`;
	return `${input}.${b64(crypto.sign('sha256', Buffer.from(input), key))}`;
}

const modes = ['wrong-aud', 'expired', 'unknown-kid', 'alg-none', 'other-key', 'wrong-nonce'];
let next = null;
provider.use(async (ctx, nextMw) => {
	if (ctx.path === '/__test/next' && ctx.method === 'POST') {
		let body = '';
		for await (const chunk of ctx.req)
			body += chunk;
		body = body.trim();
		if (!modes.includes(body)) {
			ctx.status = 400;
			ctx.body = `unknown mode '${body}'\n`;
			return;
		}
		next = body;
		ctx.status = 204;
		return;
	}
	await nextMw();
	if (ctx.path === '/token' && next && ctx.status === 200 && ctx.body?.id_token) {
		ctx.body = { ...ctx.body, id_token: forge(ctx.body.id_token, next) };
		next = null;
	}
});

const server = https.createServer({
	cert: fs.readFileSync(args.cert),
	key: fs.readFileSync(args.key),
}, provider.callback());
server.listen(Number(args.port), '127.0.0.1', () => {
	process.stdout.write(`listening ${args.port}\n`);
});
// Nothing to save: end at once, whatever connections a browser keeps open
// (server.close() would wait for them).
for (const sig of ['SIGTERM', 'SIGINT'])
	process.on(sig, () => process.exit(0));
