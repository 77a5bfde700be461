/** `GET /api/metrics`: the server's own figures, for its administrators' monitoring (issue #15). */
import { Hono } from 'hono';
import { Metrics } from '#shared/wire/metrics';
import { requirePermission } from '../middleware/auth';
import { doc, send } from '../openapi';
import type { AppDeps, AppEnv } from '../context';

export const metricsRoutes = ({ metrics }: AppDeps) =>
	new Hono<AppEnv>().get(
		'/',
		doc(
			'The server’s memory, CPU, event loop since the previous read, and store operations',
			Metrics
		),
		requirePermission('admin.settings'),
		(c) => send(c, Metrics, metrics.read())
	);
