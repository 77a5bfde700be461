/**
 * createApp(deps): the whole HTTP surface on one origin — `/api` (JSON), `/sync` (replication, per user)
 * and the built PWA with its SPA fallback. Tests build it with their own deps; index.ts with the real ones.
 */
import { Hono, type MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import { csrf } from 'hono/csrf';
import { serveStatic } from '@hono/node-server/serve-static';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from './errors';
import { loadSession, requireUser } from './middleware/auth';
import { bufferedBody, streamedBody } from './middleware/body';
import { branchFirst, perUserLimits } from './middleware/limits';
import { sessionRoutes } from './routes/session';
import { registerRoutes } from './routes/register';
import { accountRoutes } from './routes/accounts';
import { syncRoutes } from './routes/sync';
import { userRoutes } from './routes/users';
import { configAdminRoutes } from './routes/config-admin';
import { auditRoutes } from './routes/audit';
import { deviceRoutes } from './routes/devices';
import { ticketRoutes } from './routes/tickets';
import { customerRoutes } from './routes/customers';
import { internalRoutes, telephonyRoutes } from './routes/telephony';
import { forwardCallRouting } from './telephony/forward';
import { eventRoutes } from './routes/events';
import { replicateRoutes } from './routes/replicate';
import { branchRoutes } from './routes/branches';
import { referenceRoutes } from './routes/reference';
import { metricsRoutes } from './routes/metrics';
import { deskPhoneRoutes } from './routes/desk-phones';
import { doc, send } from './openapi';
import { ServerConfig } from '#shared/wire/config';
import type { AppDeps, AppEnv } from './context';
import type { Settings } from './settings';
import { SYNC_BODY_MAX_BYTES } from '#shared/tickets/sync-limits';
import { Health } from '#shared/wire/health';

const SERVER_PATHS = /^\/(api|sync|replicate|events|internal)(\/|$)/;
const API_BODY_MAX_BYTES = 1024 * 1024; // 1 MiB: forms and commands
const PUBLIC_BODY_MAX_BYTES = 16 * 1024; // 16 KiB: sign-in and registration, sent by anyone
const IMPORT_BODY_MAX_BYTES = 4 * 1024 * 1024 * 1024; // 4 GiB: a city's billing export, streamed
const IMPORT_PATH = '/api/customers/import';
/** A big replication body may take minutes on a tablet's mobile link, as long as bytes keep coming. */
const SYNC_BODY_DEADLINE_MS = 10 * 60_000;

/** What anyone may call without signing in (everything else under /api needs a session first). */
const PUBLIC_API = new Set(['GET /api/health', 'POST /api/session', 'DELETE /api/session']);
const isPublicApi = (method: string, path: string) =>
	PUBLIC_API.has(`${method} ${path.replace(/\/+$/, '')}`) || path.startsWith('/api/register');

/** Routes that serve stored files (photos, recordings). */
const FILE_PATHS = /^\/api\/(tickets\/[^/]+\/attachments|telephony\/recordings)\//;
const pageHeaders = secureHeaders({
	contentSecurityPolicy: {
		defaultSrc: ["'self'"],
		scriptSrc: ["'self'", "'unsafe-inline'"],
		styleSrc: ["'self'", "'unsafe-inline'"],
		imgSrc: ["'self'", 'data:', 'blob:'],
		connectSrc: ["'self'", 'ws:', 'wss:'],
		workerSrc: ["'self'"]
	}
});
const fileHeaders = secureHeaders({
	contentSecurityPolicy: { defaultSrc: ["'none'"], sandbox: [] },
	crossOriginResourcePolicy: 'same-origin'
});

const originCheck = csrf();
const postsFromThisOrigin: MiddlewareHandler = (c, next) =>
	c.req.method === 'POST' ? originCheck(c, next) : next();

/**
 * Who is asking is settled before any body is read: an anonymous caller is answered 401 at once, whatever
 * it is still sending (issue #13: a chunked upload was buffered in full before its 401).
 */
const signedInFirst: MiddlewareHandler<AppEnv> = async (c, next) => {
	if (!c.get('user') && !isPublicApi(c.req.method, c.req.path)) {
		throw new AppError('unauthorized', 401, 'Sign in first');
	}
	await next();
};

/** What a branch office takes from its center (F29): accounts, registrations, passwords, configuration. */
const CENTER_MANAGED = /^\/api\/(users|accounts|register|admin\/config|session\/password)(\/|$)/;

/**
 * At a branch office these are read-only: its accounts and configuration are replicated from the center,
 * and a change made here would never reach the center and be replaced by the center's next one.
 */
const managedAtCenter: MiddlewareHandler = async (c, next) => {
	if (c.req.method !== 'GET' && c.req.method !== 'HEAD' && CENTER_MANAGED.test(c.req.path)) {
		throw new AppError(
			'managed_at_center',
			409,
			'This is a branch office: accounts, passwords and configuration are changed at the center'
		);
	}
	await next();
};

export function createApp(deps: AppDeps) {
	const deadlineMs = deps.settings.requestTimeoutMs;
	const apiBody = bufferedBody({ maxBytes: API_BODY_MAX_BYTES, deadlineMs });
	const publicBody = bufferedBody({ maxBytes: PUBLIC_BODY_MAX_BYTES, deadlineMs });
	const importBody = streamedBody({ maxBytes: IMPORT_BODY_MAX_BYTES, stallMs: deadlineMs });
	const syncBody = bufferedBody({
		maxBytes: SYNC_BODY_MAX_BYTES,
		deadlineMs: SYNC_BODY_DEADLINE_MS,
		stallMs: deadlineMs
	});
	const app = new Hono<AppEnv>()
		// Stored files carry their own, stricter policy (`attachmentHeaders`): no page CSP over it.
		.use('*', (c, next) =>
			FILE_PATHS.test(c.req.path) ? fileHeaders(c, next) : pageHeaders(c, next)
		)
		// Form posts from other sites never reach the API or sync (the cookie is SameSite=Lax as well).
		// Other methods cannot be sent cross-site without a CORS preflight, which this server never grants,
		// so scripts may still `DELETE /api/session` without an Origin header.
		.use('/api/*', postsFromThisOrigin)
		.use('/sync/*', postsFromThisOrigin)
		.use('/api/*', loadSession(deps))
		.use('/sync/*', loadSession(deps))
		.use('/sync', loadSession(deps))
		.use('/events', loadSession(deps))
		.use('/api/*', signedInFirst)
		.use('/sync/*', requireUser())
		.use('/events', requireUser())
		.use('/replicate/*', branchFirst(deps))
		// Bodies only now, each within the bounds of its route.
		.use('/api/*', (c, next) =>
			c.req.path === IMPORT_PATH
				? importBody(c, next)
				: isPublicApi(c.req.method, c.req.path)
					? publicBody(c, next)
					: apiBody(c, next)
		)
		.use('/internal/*', publicBody)
		// #16 TELEPHONY=shared: what only the server routing calls can answer goes there.
		.use('/api/telephony/*', forwardCallRouting(deps.callRouting, deps.settings.trustedProxies))
		.use('/internal/sip/*', forwardCallRouting(deps.callRouting, deps.settings.trustedProxies))
		.use('/sync/*', perUserLimits(), syncBody)
		.use('/replicate/*', syncBody)
		.use('/api/*', deps.branches.link ? managedAtCenter : (_c, next) => next())
		.get(
			'/api/health',
			doc(
				'Whether the server is up (503 when its store does not answer): version, store, telephony, branch link',
				Health,
				{ access: 'public' }
			),
			async (c) => {
				const storeCheck = await deps.storeHealth.check();
				return send(
					c,
					Health,
					{
						status: storeCheck.reachable ? 'ok' : 'unavailable',
						version: deps.version,
						store: deps.storeKind,
						storeCheck,
						telephony: deps.telephony(),
						branch: {
							servesBranches: deps.branches.center.isCenter,
							link: deps.branches.link?.status().state ?? null
						}
					},
					storeCheck.reachable ? 200 : 503
				);
			}
		)
		.get(
			'/api/config',
			doc("This server's version, languages, telephony state and offline window", ServerConfig),
			requireUser(),
			(c) =>
				send(c, ServerConfig, {
					version: deps.version,
					locales: ['zh-CN', 'en'],
					defaultLocale: 'zh-CN',
					telephony: deps.telephony().state,
					syncWindowDays: Math.round(deps.settings.syncWindowMs / 86_400_000),
					hotlines: deps.settings.sip.hotlines,
					voiceMenuHotlines: deps.settings.ivr.hotlines
				})
		)
		.route('/api/session', sessionRoutes(deps))
		.route('/api/register', registerRoutes(deps))
		.route('/api/accounts', accountRoutes(deps))
		.route('/api/users', userRoutes(deps))
		.route('/api/admin/config', configAdminRoutes(deps))
		.route('/api/audit', auditRoutes(deps))
		.route('/api/devices', deviceRoutes(deps))
		.route('/api/tickets', ticketRoutes(deps))
		.route('/api/customers', customerRoutes(deps))
		.route('/api/telephony', telephonyRoutes(deps))
		.route('/internal', internalRoutes(deps))
		.route('/events', eventRoutes(deps))
		.route('/sync', syncRoutes(deps))
		.route('/replicate', replicateRoutes(deps))
		.route('/api/branches', branchRoutes(deps))
		.route('/api/desk-phones', deskPhoneRoutes(deps))
		.route('/api/metrics', metricsRoutes(deps));
	// The reference describes every route above, so it reads the finished application.
	app.route('/api', referenceRoutes(app, deps.version));

	app.all('/api/*', (c) => c.json({ code: 'not_found', message: 'No such API route' }, 404));

	const webDir = deps.settings.webDir;
	if (webDir && existsSync(webDir)) {
		app.use('/_app/immutable/*', async (c, next) => {
			await next();
			c.header('Cache-Control', 'public, max-age=31536000, immutable');
		});
		app.use('*', async (c, next) => {
			if (SERVER_PATHS.test(c.req.path)) return next();
			await next();
			if (!c.res.headers.has('Cache-Control')) c.header('Cache-Control', 'no-cache');
		});
		// #15: the build's precompressed copies (brotli, else gzip) go to browsers that accept them.
		app.get('*', serveStatic({ root: webDir, precompressed: true }));
		// SPA fallback: any other page is the app shell, which routes on the client.
		app.get('*', (c, next) =>
			SERVER_PATHS.test(c.req.path)
				? next()
				: serveStatic({ root: webDir, path: '200.html', precompressed: true })(c, next)
		);
	}

	app.onError((err, c) => {
		if (err instanceof AppError) return c.json(err.body(), err.status);
		// A body that is not JSON where a route reads JSON (`c.req.json()`): the caller's mistake.
		if (err instanceof SyntaxError) {
			return c.json({ code: 'bad_request', message: 'The request body is not valid JSON' }, 400);
		}
		if (err instanceof HTTPException) {
			return c.json(
				{ code: 'bad_request', message: err.message || 'Bad request' },
				err.status === 400 ? 400 : err.status
			);
		}
		const requestId = crypto.randomUUID();
		console.error(`[${requestId}] ${c.req.method} ${c.req.path}`, err);
		return c.json({ code: 'internal', message: `Internal error (request ${requestId})` }, 500);
	});
	return app;
}

export type AppType = ReturnType<typeof createApp>;

/**
 * Node's HTTP server options. Headers must arrive within REQUEST_TIMEOUT_SECONDS (a stalled or trickling
 * sender is cut off, checked every second). Bodies are timed per route by `middleware/body.ts` instead of
 * Node's `requestTimeout`, which cannot tell a 1 KiB form from a city's subscriber export streamed for
 * minutes.
 */
export const serverOptions = (settings: Pick<Settings, 'requestTimeoutMs'>) => ({
	requestTimeout: 0,
	headersTimeout: settings.requestTimeoutMs,
	connectionsCheckingInterval: Math.min(1_000, settings.requestTimeoutMs)
});

/** A connection that carries nothing either way this long is closed (event streams and feeds send more often). */
export const IDLE_SOCKET_MS = 120_000;

/**
 * How long a kept-alive connection may wait for its next request. Longer than the idle timeouts of the
 * proxies and clients in front (haproxy's `timeout http-keep-alive`, browsers' ~60 s): a client that sends
 * on a connection the server is just closing gets a reset (Node's 5 s default did this under load).
 */
export const KEEP_ALIVE_MS = 65_000;

/** Applies what `serverOptions` cannot: the idle-socket and keep-alive timeouts. */
export function hardenServer(server: { setTimeout(ms: number): unknown }): void {
	server.setTimeout(IDLE_SOCKET_MS);
	// An HTTP/1.1 server (what @hono/node-server starts); an HTTP/2 one has no keep-alive timeout.
	if ('keepAliveTimeout' in server) server.keepAliveTimeout = KEEP_ALIVE_MS;
}

/** Where the built PWA lives relative to the project root. */
export const defaultWebDir = (root: string) => join(root, 'build', 'web');
