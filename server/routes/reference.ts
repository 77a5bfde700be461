/**
 * The API's reference for integrators: `/api/openapi.json`, generated from the routes (`openapi.ts`), and
 * `/api/reference`, a readable page of it drawn by Swagger UI served from this server (no CDN: the center's
 * network may have no Internet). For signed-in users; what each route allows is listed on it.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Hono, type Schema } from 'hono';
import { requireUser } from '../middleware/auth';
import { doc, openApiDocument } from '../openapi';
import type { AppEnv } from '../context';
import * as v from 'valibot';

const SWAGGER_FILES: Record<string, string> = {
	'swagger-ui.css': 'text/css; charset=utf-8',
	'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
	'start.js': 'text/javascript; charset=utf-8'
};

const PAGE = `<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>广电呼叫中心 API</title>
<link rel="stylesheet" href="/api/reference/swagger-ui.css">
</head>
<body>
<div id="reference"></div>
<script src="/api/reference/swagger-ui-bundle.js"></script>
<script src="/api/reference/start.js"></script>
</body>
</html>`;

const START = `window.ui = SwaggerUIBundle({ url: '/api/openapi.json', dom_id: '#reference', deepLinking: true, tryItOutEnabled: false });`;

const OpenApiDocument = v.looseObject({
	openapi: v.string(),
	info: v.looseObject({ title: v.string(), version: v.string() }),
	paths: v.record(v.string(), v.unknown())
});

/** `app` is the whole application, read once when the document is first asked for. */
export const referenceRoutes = (app: Hono<AppEnv, Schema, string>, version: string) => {
	let document: Promise<unknown> | null = null;
	const swaggerDir = dirname(
		createRequire(import.meta.url).resolve('swagger-ui-dist/package.json')
	);
	return new Hono<AppEnv>()
		.use(requireUser())
		.get(
			'/openapi.json',
			doc('The OpenAPI 3.1 document of this API', OpenApiDocument),
			async (c) => {
				document ??= openApiDocument(app, version);
				return c.json(await document, 200);
			}
		)
		.get('/reference', doc('A readable page of the API reference (HTML)', null), (c) =>
			c.html(PAGE)
		)
		.get('/reference/:file', doc('The reference page’s script and style', null), async (c) => {
			const file = c.req.param('file');
			const type = SWAGGER_FILES[file];
			if (!type) return c.json({ code: 'not_found', message: 'No such file' }, 404);
			const body =
				file === 'start.js' ? START : new Uint8Array(await readFile(join(swaggerDir, file)));
			return c.body(body, 200, {
				'content-type': type,
				'cache-control': 'public, max-age=86400'
			});
		});
};
