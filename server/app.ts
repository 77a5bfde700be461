/**
 * createApp(deps): the whole HTTP surface on one origin — `/api` (JSON), `/sync` (replication, per user)
 * and the built PWA with its SPA fallback. Tests build it with their own deps; index.ts with the real ones.
 */
import { Hono, type Context, type MiddlewareHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import { secureHeaders } from 'hono/secure-headers';
import { bodyLimit } from 'hono/body-limit';
import { csrf } from 'hono/csrf';
import { serveStatic } from '@hono/node-server/serve-static';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AppError } from './errors';
import { loadSession, requireUser } from './middleware/auth';
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
import { eventRoutes } from './routes/events';
import { replicateRoutes } from './routes/replicate';
import { branchRoutes } from './routes/branches';
import { deskPhoneRoutes } from './routes/desk-phones';
import type { AppDeps, AppEnv } from './context';
import { SYNC_BODY_MAX_BYTES } from '#shared/tickets/sync-limits';

const SERVER_PATHS = /^\/(api|sync|replicate|events|internal)(\/|$)/;
const API_BODY_MAX_BYTES = 1024 * 1024; // 1 MiB: forms and commands
const IMPORT_BODY_MAX_BYTES = 4 * 1024 * 1024 * 1024; // 4 GiB: a city's billing export, streamed
const IMPORT_PATH = '/api/customers/import';

const originCheck = csrf();
const postsFromThisOrigin: MiddlewareHandler = (c, next) =>
	c.req.method === 'POST' ? originCheck(c, next) : next();

const tooLarge = (c: Context) =>
	c.json({ code: 'bad_request', message: 'Request body too large' }, 413);
const apiBodyLimit = bodyLimit({ maxSize: API_BODY_MAX_BYTES, onError: tooLarge });

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
	const app = new Hono<AppEnv>()
		.use(
			'*',
			secureHeaders({
				contentSecurityPolicy: {
					defaultSrc: ["'self'"],
					scriptSrc: ["'self'", "'unsafe-inline'"],
					styleSrc: ["'self'", "'unsafe-inline'"],
					imgSrc: ["'self'", 'data:', 'blob:'],
					connectSrc: ["'self'", 'ws:', 'wss:'],
					workerSrc: ["'self'"]
				}
			})
		)
		// Form posts from other sites never reach the API or sync (the cookie is SameSite=Lax as well).
		// Other methods cannot be sent cross-site without a CORS preflight, which this server never grants,
		// so scripts may still `DELETE /api/session` without an Origin header.
		.use('/api/*', postsFromThisOrigin)
		.use('/sync/*', postsFromThisOrigin)
		.use(IMPORT_PATH, bodyLimit({ maxSize: IMPORT_BODY_MAX_BYTES, onError: tooLarge }))
		.use('/api/*', (c, next) => (c.req.path === IMPORT_PATH ? next() : apiBodyLimit(c, next)))
		.use('/sync/*', bodyLimit({ maxSize: SYNC_BODY_MAX_BYTES, onError: tooLarge }))
		.use('/replicate/*', bodyLimit({ maxSize: SYNC_BODY_MAX_BYTES, onError: tooLarge }))
		.use('/api/*', loadSession(deps))
		.use('/api/*', deps.branches.link ? managedAtCenter : (_c, next) => next())
		.use('/sync/*', loadSession(deps))
		.use('/sync', loadSession(deps))
		.use('/events', loadSession(deps))
		.get('/api/health', (c) =>
			c.json(
				{
					status: 'ok',
					version: deps.version,
					store: deps.store.kind,
					telephony: deps.telephony(),
					branch: {
						servesBranches: deps.branches.center.isCenter,
						link: deps.branches.link?.status().state ?? null
					}
				},
				200
			)
		)
		.get('/api/config', requireUser(), (c) =>
			c.json(
				{
					version: deps.version,
					locales: ['zh-CN', 'en'],
					defaultLocale: 'zh-CN',
					telephony: deps.telephony().state,
					syncWindowDays: Math.round(deps.config.syncWindowMs / 86_400_000)
				},
				200
			)
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
		.route('/api/desk-phones', deskPhoneRoutes(deps));

	app.all('/api/*', (c) => c.json({ code: 'not_found', message: 'No such API route' }, 404));

	const webDir = deps.config.webDir;
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
		app.get('*', serveStatic({ root: webDir }));
		// SPA fallback: any other page is the app shell, which routes on the client.
		app.get('*', (c, next) =>
			SERVER_PATHS.test(c.req.path)
				? next()
				: serveStatic({ root: webDir, path: '200.html' })(c, next)
		);
	}

	app.onError((err, c) => {
		if (err instanceof AppError) return c.json(err.body(), err.status);
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
 * Node's HTTP server options. A subscriber import streams a city's export for many minutes, longer than
 * Node's default 5-minute `requestTimeout`, so requests are not cut by time; slow headers still are.
 */
export const SERVER_OPTIONS = { requestTimeout: 0, headersTimeout: 60_000 };

/** Where the built PWA lives relative to the project root. */
export const defaultWebDir = (root: string) => join(root, 'build', 'web');
