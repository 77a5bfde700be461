/**
 * Subscribers (F16/F18): search for agents (by phone, account, smart card, name or address, exact or
 * partial, digital/analog/both), one subscriber by id, and the import of billing exports for those with
 * `customer.import`. The data never goes to browsers wholesale — only what a search returns.
 */
import { Hono } from 'hono';
import * as v from 'valibot';
import { CUSTOMER_SOURCES, CustomerSearchQuery } from '#shared/customers/customer';
import {
	CustomerCount,
	CustomerHit,
	CustomerSearchResult,
	ImportReport
} from '#shared/wire/customers';
import { AppError } from '../errors';
import { requireAnyPermission, requirePermission } from '../middleware/auth';
import { doc, send } from '../openapi';
import { validQuery } from '../validate';
import type { AppDeps, AppEnv } from '../context';

const ImportQuery = v.object({
	source: v.picklist(CUSTOMER_SOURCES, 'source_invalid'),
	format: v.optional(v.picklist(['csv', 'jsonl'], 'format_invalid'), 'csv')
});

/** Agents search while recording tickets; team leaders and crews' dispatchers look subscribers up too. */
const requireSearcher = () =>
	requireAnyPermission('customer.search', 'ticket.create', 'workOrder.dispatch', 'supervise');

export const customerRoutes = ({ customers, audit }: AppDeps) =>
	new Hono<AppEnv>()
		.get(
			'/search',
			doc(
				'Searches subscribers by phone, account, smart card, name or address (F16)',
				CustomerSearchResult
			),
			requireSearcher(),
			validQuery(CustomerSearchQuery),
			(c) => send(c, CustomerSearchResult, customers.index.search(c.req.valid('query')))
		)
		.get(
			'/status',
			doc('Counts the searchable subscribers', CustomerCount),
			requireSearcher(),
			(c) => send(c, CustomerCount, { count: customers.index.count() })
		)
		.post(
			'/import',
			doc(
				"Imports a billing system's export of subscribers (F18), streamed as the body",
				ImportReport
			),
			requirePermission('customer.import'),
			validQuery(ImportQuery),
			async (c) => {
				const { source, format } = c.req.valid('query');
				const body = c.req.raw.body;
				if (!body) {
					throw new AppError('validation', 400, 'The export file is empty', { field: 'file' });
				}
				const report = await customers.indexer.whileImporting(
					(written) => customers.importer.run(body, source, format, written),
					(r) => r.inserted + r.updated
				);
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
				return send(c, ImportReport, report);
			}
		)
		.get('/:id', doc('Reads one subscriber', CustomerHit), requireSearcher(), (c) => {
			const hit = customers.index.get(c.req.param('id'));
			if (!hit) throw new AppError('not_found', 404, 'No such subscriber');
			return send(c, CustomerHit, hit);
		});
