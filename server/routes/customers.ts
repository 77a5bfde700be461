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
	ImportProgress,
	ImportReport
} from '#shared/wire/customers';
import { AppError } from '../errors';
import { requireAnyPermission, requirePermission } from '../middleware/auth';
import { doc, send } from '../openapi';
import { validQuery } from '../validate';
import type { AppDeps, AppEnv } from '../context';

/** A running import's name, chosen by the uploading browser to ask how far it is. */
const ProgressId = v.pipe(v.string(), v.regex(/^[\w-]{8,64}$/, 'invalid'));

const ImportQuery = v.object({
	source: v.picklist(CUSTOMER_SOURCES, 'source_invalid'),
	format: v.optional(v.picklist(['csv', 'jsonl'], 'format_invalid'), 'csv'),
	progress: v.optional(ProgressId)
});

/** How long an import's progress is kept after it answered (the browser's last look). */
const PROGRESS_KEPT_MS = 60_000;

/** Agents search while recording tickets; team leaders and crews' dispatchers look subscribers up too. */
const requireSearcher = () =>
	requireAnyPermission('customer.search', 'ticket.create', 'workOrder.dispatch', 'supervise');

export const customerRoutes = ({ customers, audit }: AppDeps) => {
	/** Running imports by `<user>:<progress id>`: only the user who started one can ask about it. */
	const running = new Map<string, ImportProgress>();
	return new Hono<AppEnv>()
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
				const { source, format, progress: progressId } = c.req.valid('query');
				const body = c.req.raw.body;
				if (!body) {
					throw new AppError('validation', 400, 'The export file is empty', { field: 'file' });
				}
				const length = Number(c.req.header('content-length'));
				const state: ImportProgress = {
					phase: 'reading',
					bytes: 0,
					total: Number.isFinite(length) && length > 0 ? length : null,
					rows: 0
				};
				const key = progressId ? `${c.get('user')!._id}:${progressId}` : null;
				if (key) running.set(key, state);
				const report = await customers.indexer
					.whileImporting(
						(written) =>
							customers.importer.run(body, source, format, written, (bytes, rows) => {
								state.bytes = bytes;
								state.rows = rows;
							}),
						(r) => r.inserted + r.updated
					)
					.finally(() => {
						if (key) setTimeout(() => running.delete(key), PROGRESS_KEPT_MS).unref();
					});
				state.rows = report.rows;
				state.phase = 'indexing';
				// Imported means searchable: answer once the index has caught up with what was written.
				await customers.indexer.caughtUp();
				state.phase = 'done';
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
		.get(
			'/import/progress',
			doc('How far a running import of this user is (#17)', ImportProgress),
			requirePermission('customer.import'),
			validQuery(v.object({ id: ProgressId })),
			(c) => {
				const state = running.get(`${c.get('user')!._id}:${c.req.valid('query').id}`);
				if (!state) throw new AppError('not_found', 404, 'No such import running');
				return send(c, ImportProgress, state);
			}
		)
		.get('/:id', doc('Reads one subscriber', CustomerHit), requireSearcher(), (c) => {
			const hit = customers.index.get(c.req.param('id'));
			if (!hit) throw new AppError('not_found', 404, 'No such subscriber');
			return send(c, CustomerHit, hit);
		});
};
