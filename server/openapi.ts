/**
 * The API's contract for integrators (billing, SMS gateways, reporting tools): an OpenAPI 3 document
 * generated from the routes themselves — the valibot schemas they validate requests with (`validate.ts`),
 * the schemas they answer in (`doc`, `send`), and the permission each one checks (`middleware/auth.ts`),
 * so the document cannot drift from what the server does. Served at `/api/openapi.json`, read at
 * `/api/reference`.
 */
import type { Context, Env, Hono, MiddlewareHandler, Schema } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { describeRoute, generateSpecs, resolver, uniqueSymbol } from 'hono-openapi';
import type * as v from 'valibot';
import { ApiErrorBody as ErrorBody } from '#shared/wire/errors';

/** The operation field that names what a route requires: a permission, `signed-in`, `public` or `branch`. */
export const ACCESS_FIELD = 'x-access';
/** Where a route accepts any one of several permissions: all of them (`x-access` names the first). */
export const ACCESS_ANY_FIELD = 'x-access-any';
export type Access = string;

/** Marks a middleware as documenting `spec` for every route it runs on (merged into the operation). */
/** Any middleware, whatever its input types. */
type Middleware = (...args: never[]) => unknown;

export function documents<M extends Middleware>(middleware: M, spec: object): M {
	return Object.assign(middleware, { [uniqueSymbol]: { spec } });
}

/** Marks a request validator so the document lists what it reads (`json`, `query`, `param`). */
export function documentsInput<M extends Middleware>(
	middleware: M,
	target: 'json' | 'query' | 'param',
	schema: v.GenericSchema
): M {
	return Object.assign(middleware, { [uniqueSymbol]: { target, ...resolver(schema) } });
}

const json = (schema: v.GenericSchema) => ({ 'application/json': { schema: resolver(schema) } });

/**
 * What a route does and answers, for the document: `doc('Lists users', UserPage)`. `status` is the
 * success status (200 unless given); `access: 'public'` marks a route anyone may call.
 */
export function doc(
	summary: string,
	response: v.GenericSchema | null,
	{
		status = 200,
		description,
		access
	}: { status?: 200 | 201 | 204; description?: string; access?: 'public' } = {}
): MiddlewareHandler {
	return describeRoute({
		summary,
		...(description ? { description } : {}),
		...(access ? { [ACCESS_FIELD]: access, security: [] } : {}),
		responses: {
			[status]: response
				? { description: summary, content: json(response) }
				: { description: summary },
			400: { description: 'The request is not valid', content: json(ErrorBody) },
			...(access === 'public'
				? {}
				: {
						401: { description: 'Not signed in', content: json(ErrorBody) },
						403: { description: 'Not allowed', content: json(ErrorBody) }
					})
		}
	});
}

/**
 * Answers with a body of `schema`'s shape: the compiler checks what the route builds against the schema the
 * browser parses, so the two sides cannot disagree.
 */
export function send<S extends v.GenericSchema, C extends Context>(
	c: C,
	_schema: S,
	body: v.InferInput<S>,
	status: ContentfulStatusCode = 200
) {
	return c.json(body as object, status);
}

/** The OpenAPI 3.1 document of `app`. */
export function openApiDocument<E extends Env, S extends Schema, P extends string>(
	app: Hono<E, S, P>,
	version: string
) {
	return generateSpecs(app, {
		documentation: {
			info: {
				title: '广电呼叫中心 API',
				version,
				description:
					'Every route of the call center. Sign in with `POST /api/session` (the `cc_session` cookie), ' +
					'then call the routes your permission allows (`x-access` on each operation). Errors are ' +
					'`{ code, message, field?, issues? }`.'
			},
			components: {
				securitySchemes: {
					session: { type: 'apiKey', in: 'cookie', name: 'cc_session' }
				}
			},
			security: [{ session: [] }]
		},
		excludeStaticFile: false,
		defaultValidationErrorResponse: false
	});
}
