/**
 * Subscriber import (F18's data): a billing export — CSV with a header row, or JSON lines — streamed from the
 * request, validated row by row, written to `cc_customers` in bulk. Bad rows are reported with their line
 * number and reason while the rest go in; re-importing updates the same documents (the id is source +
 * account) and leaves unchanged ones alone. Nothing is held in memory but one batch and the seen accounts.
 */
import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';
import {
	customerFromRow,
	headerField,
	sameCustomer,
	type Customer,
	type CustomerSource,
	type ImportReport,
	type RejectedRow
} from '#shared/customers/customer';
import { AppError } from '../errors';
import { StoreError, type Store } from '../store';

export type ImportFormat = 'csv' | 'jsonl';

const BATCH = 2000;
const MAX_REPORTED = 1000;
const STORE_ATTEMPTS = 3;

interface Row {
	line: number;
	record: Record<string, unknown>;
}

/** CSV records (header row names the columns, in English or Chinese) with their line numbers. */
async function* csvRows(input: Readable, reject: (r: RejectedRow) => void): AsyncGenerator<Row> {
	const parser = input.pipe(
		parse({
			bom: true,
			columns: (header: string[]) => {
				const fields = header.map((h) => headerField(h) ?? false);
				// Not an export's header (another file, or text before it): one clear refusal, not a rejection
				// of every row.
				if (!fields.includes('account') || !fields.includes('name')) {
					throw new AppError(
						'validation',
						400,
						`The first row must name the columns, account and name among them (账号, 姓名); it reads: ${header.join(',').slice(0, 120)}`,
						{ field: 'file', issues: { file: 'import_header' } }
					);
				}
				return fields;
			},
			relax_column_count: true,
			skip_empty_lines: true,
			skip_records_with_error: true,
			trim: true,
			info: true
		})
	);
	parser.on('skip', (err: Error & { lines?: number }) =>
		reject({ line: err.lines ?? 0, reason: 'csv_malformed' })
	);
	for await (const { record, info } of parser as AsyncIterable<{
		record: Record<string, unknown>;
		info: { lines: number };
	}>) {
		yield { line: info.lines, record };
	}
}

/** JSON lines: one object per line, field names as in the CSV header. */
async function* jsonlRows(input: Readable, reject: (r: RejectedRow) => void): AsyncGenerator<Row> {
	let line = 0;
	for await (const text of createInterface({ input, crlfDelay: Infinity })) {
		line++;
		const trimmed = text.replace(/^\uFEFF/, '').trim();
		if (!trimmed) continue;
		let value: unknown;
		try {
			value = JSON.parse(trimmed);
		} catch {
			reject({ line, reason: 'json_malformed' });
			continue;
		}
		if (!value || typeof value !== 'object' || Array.isArray(value)) {
			reject({ line, reason: 'json_not_object' });
			continue;
		}
		const record: Record<string, unknown> = {};
		for (const [key, v] of Object.entries(value)) {
			const field = headerField(key);
			if (field) record[field] = v;
		}
		yield { line, record };
	}
}

export function createCustomerImport(store: Store) {
	const db = store.db<Customer>('customers');

	/**
	 * A store request; a dropped connection is retried (a retried bulk write comes back as conflicts), an
	 * answer the store gave is not.
	 */
	async function retried<T>(request: () => Promise<T>): Promise<T> {
		for (let attempt = 1; ; attempt++) {
			try {
				return await request();
			} catch (err) {
				if (err instanceof StoreError || attempt >= STORE_ATTEMPTS) throw err;
				await new Promise((r) => setTimeout(r, 200 * attempt));
			}
		}
	}

	return {
		/**
		 * `written` is told of every subscriber the store accepted, batch by batch (the search index); the
		 * import goes on when it resolves.
		 */
		async run(
			body: ReadableStream<Uint8Array>,
			source: CustomerSource,
			format: ImportFormat,
			written: (docs: Customer[]) => Promise<void> = () => Promise.resolve(),
			/** Told of the file's bytes read and the rows so far, as the import goes (#17). */
			progress: (bytes: number, rows: number) => void = () => {}
		): Promise<ImportReport> {
			const started = performance.now();
			const report: ImportReport = {
				source,
				rows: 0,
				inserted: 0,
				updated: 0,
				unchanged: 0,
				rejected: 0,
				rejectedRows: [],
				ms: 0
			};
			const reject = (r: RejectedRow) => {
				report.rejected++;
				if (report.rejectedRows.length < MAX_REPORTED) report.rejectedRows.push(r);
			};
			const seen = new Set<string>();
			const importedAt = new Date().toISOString();
			let batch: { line: number; customer: Customer }[] = [];

			/**
			 * Writes optimistically: new subscribers go in without a look-up; those that exist come back as
			 * conflicts and are then compared with what is stored — unchanged ones are left alone, changed
			 * ones are written over their current revision.
			 */
			const flush = async () => {
				if (batch.length === 0) return;
				const current = batch;
				batch = [];
				const first = await retried(() => db.bulkDocs(current.map((b) => b.customer)));
				const existing: { line: number; customer: Customer }[] = [];
				first.forEach((r, i) => {
					if (!r.error) report.inserted++;
					else if (r.error === 'conflict') existing.push(current[i]!);
					else reject({ line: current[i]!.line, reason: `store_${r.error}` });
				});
				await written(current.filter((_, i) => !first[i]!.error).map((b) => b.customer));
				if (existing.length === 0) return;
				const stored = await retried(() =>
					db.allDocs({ keys: existing.map((b) => b.customer._id), include_docs: true })
				);
				const docs: Customer[] = [];
				const lines: number[] = [];
				existing.forEach(({ customer, line }, i) => {
					const old = stored.rows[i]?.doc;
					if (old && sameCustomer(old, customer)) {
						report.unchanged++;
						return;
					}
					docs.push(old ? { ...customer, _rev: old._rev } : customer);
					lines.push(line);
				});
				if (docs.length === 0) return;
				const second = await retried(() => db.bulkDocs(docs));
				second.forEach((r, i) => {
					if (r.error) reject({ line: lines[i]!, reason: `store_${r.error}` });
					else if (docs[i]!._rev) report.updated++;
					else report.inserted++;
				});
				await written(docs.filter((_, i) => !second[i]!.error));
			};

			const input = Readable.fromWeb(body as never);
			let bytes = 0;
			input.on('data', (chunk: Uint8Array) => {
				bytes += chunk.length;
				progress(bytes, report.rows);
			});
			// Rows the parser cannot read count as rows too (they are in the file).
			const malformed = (r: RejectedRow) => (report.rows++, reject(r));
			const rows = format === 'csv' ? csvRows(input, malformed) : jsonlRows(input, malformed);
			try {
				for await (const { line, record } of rows) {
					report.rows++;
					const result = customerFromRow(source, record, importedAt);
					if (!result.ok) {
						const account = typeof record.account === 'string' ? record.account : undefined;
						reject({ line, reason: result.reason, ...(account ? { account } : {}) });
						continue;
					}
					if (seen.has(result.customer._id)) {
						reject({ line, reason: 'duplicate_account', account: result.customer.account });
						continue;
					}
					seen.add(result.customer._id);
					batch.push({ line, customer: result.customer });
					if (batch.length >= BATCH) {
						await flush();
						progress(bytes, report.rows);
					}
				}
				await flush();
			} catch (err) {
				if (err instanceof AppError) throw err;
				// What was written stays written; the report says how far the import got.
				throw new AppError(
					'bad_request',
					400,
					`Import stopped after ${report.rows} rows: ${(err as Error).message}`
				);
			}
			report.ms = Math.round(performance.now() - started);
			return report;
		}
	};
}

export type CustomerImport = ReturnType<typeof createCustomerImport>;
