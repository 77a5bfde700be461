/**
 * Subscribers (F16/F18): search for agents (by phone, account, smart card, name or address, exact or
 * partial, digital/analog/both), one subscriber by id, and the import of billing exports for those with
 * `customer.import`. The data never goes to browsers wholesale — only what a search returns.
 */
import { Hono } from 'hono';
import { createMiddleware } from 'hono/factory';
import * as v from 'valibot';
import { CUSTOMER_SOURCES, CustomerSearchQuery } from '#shared/customers/customer';
import { AppError } from '../errors';
import { requirePermission, requireUser } from '../middleware/auth';
import { parseOrThrow } from '../validate';
import type { AppDeps, AppEnv } from '../context';

const ImportQuery = v.object({
	source: v.picklist(CUSTOMER_SOURCES, 'source_invalid'),
	format: v.optional(v.picklist(['csv', 'jsonl'], 'format_invalid'), 'csv')
});

/** Agents search while recording tickets; team leaders and crews' dispatchers look subscribers up too. */
const SEARCHERS = ['customer.search', 'ticket.create', 'workOrder.dispatch', 'supervise'];
const requireSearcher = createMiddleware<AppEnv>(async (c, next) => {
	const user = c.get('user');
	if (!SEARCHERS.some((p) => user?.permissions.includes(p))) {
		throw new AppError('forbidden', 403, 'Missing permission customer.search');
	}
	await next();
});

export const customerRoutes = ({ customers, audit }: AppDeps) =>
	new Hono<AppEnv>()
		.get('/search', requireUser(), requireSearcher, (c) => {
			const query = parseOrThrow(CustomerSearchQuery, c.req.query());
			return c.json(customers.index.search(query), 200);
		})
		.get('/status', requireUser(), requireSearcher, (c) =>
			c.json({ count: customers.index.count() }, 200)
		)
		.post('/import', requirePermission('customer.import'), async (c) => {
			const { source, format } = parseOrThrow(ImportQuery, c.req.query());
			const body = c.req.raw.body;
			if (!body) {
				throw new AppError('validation', 400, 'The export file is empty', { field: 'file' });
			}
			customers.indexer.pause();
			let report;
			try {
				report = await customers.importer.run(body, source, format);
			} finally {
				customers.indexer.resume();
			}
			// Imported means searchable: answer once the index has caught up with what was written.
			await customers.indexer.caughtUp();
			await audit.record({
				actor: c.get('user')!._id,
				action: 'customers.import',
				target: source,
				after: {
					rows: report.rows,
					inserted: report.inserted,
					updated: report.updated,
					unchanged: report.unchanged,
					rejected: report.rejected
				}
			});
			return c.json(report, 200);
		})
		.get('/:id', requireUser(), requireSearcher, (c) => {
			const hit = customers.index.get(c.req.param('id'));
			if (!hit) throw new AppError('not_found', 404, 'No such subscriber');
			return c.json(hit, 200);
		});
