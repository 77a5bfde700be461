/**
 * #4 subscriber targets at city scale (BENCH_SUBSCRIBERS, default 1,000,000):
 * - import of a generated billing export through the API, beside a raw `_bulk_docs` insert of the same rows
 *   into another database of the same store (target ≤ 1.5×), and the time until the index has caught up;
 * - search p95 by phone and by part of a name/address, through the API, beside the store's own Mango `_find`
 *   on the same data (targets: phone ≤ 5 ms, partial ≤ 50 ms, ≥ 20× faster than `_find`).
 * `npm run bench` prints the figures; BENCHMARKS.md keeps them.
 */
import { performance } from 'node:perf_hooks';
import { request } from 'node:http';
import { Readable } from 'node:stream';
import { startTestServer, ADMIN_PASSWORD } from '../helpers/server';
import { exportChunks, generateSubscribers } from '../../server/tools/subscribers';
import { customerFromRow } from '../../src/lib/shared/customers/customer';
import { normalizePhone } from '../../src/lib/shared/phone';

const COUNT = Number(process.env.BENCH_SUBSCRIBERS ?? 1_000_000);
const SEED = 11;
const LOOKUPS = 500;
const FIND_RUNS = Number(process.env.BENCH_FIND_RUNS ?? 3);

const p = (times: number[], q: number) => {
	const sorted = [...times].sort((a, b) => a - b);
	return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
};
const ms = (n: number) => `${n.toFixed(n < 10 ? 2 : 0)} ms`;

const server = await startTestServer();
try {
	const { store } = server.runtime;
	const { customers, settings } = server.runtime.deps;
	// The store's own HTTP door: what this bench measures the server against.
	const door = store.address();
	const couch = (path: string, init: RequestInit = {}) =>
		fetch(door.url + path, {
			...init,
			headers: { 'content-type': 'application/json', ...door.headers }
		});
	const cookie = await server.signIn('admin', ADMIN_PASSWORD);
	console.log(
		`Subscribers: ${COUNT.toLocaleString('en')} generated rows (seed ${SEED}), embedded store`
	);

	// 1. The product's import: CSV streamed through the API (parse, validate, look up, bulk write).
	let t0 = performance.now();
	// node:http rather than fetch: fetch gives up waiting for an answer after 5 minutes.
	const report = await new Promise<{ inserted: number; rejected: number; ms: number }>(
		(resolve, reject) => {
			const req = request(
				`${server.url}/api/customers/import?source=digital&format=csv`,
				{
					method: 'POST',
					headers: { cookie, origin: server.url, 'content-type': 'text/csv' }
				},
				(res) => {
					let body = '';
					res.setEncoding('utf8');
					res.on('data', (d: string) => (body += d));
					res.on('end', () =>
						res.statusCode === 200 ? resolve(JSON.parse(body)) : reject(new Error(body))
					);
				}
			);
			req.on('error', reject);
			Readable.from(exportChunks({ count: COUNT, source: 'digital', seed: SEED }, 'csv')).pipe(req);
		}
	);
	const importMs = performance.now() - t0;
	const writeMs = report.ms;
	// 2. Raw bulk insert of the same rows, into a scratch database of the same store (after the import,
	// so neither runs on a store the other just filled or emptied).
	const raw = 'bench_raw_customers';
	await couch(`/${raw}`, { method: 'PUT' });
	const now = new Date().toISOString();
	t0 = performance.now();
	let batch: object[] = [];
	const flush = async () => {
		await couch(`/${raw}/_bulk_docs`, { method: 'POST', body: JSON.stringify({ docs: batch }) });
		batch = [];
	};
	for (const row of generateSubscribers({ count: COUNT, source: 'digital', seed: SEED })) {
		const result = customerFromRow('digital', { ...row }, now);
		if (result.ok) batch.push(result.customer);
		if (batch.length === 2000) await flush();
	}
	await flush();
	const rawMs = performance.now() - t0;

	console.log(
		`  import via API: ${ms(importMs)} total (${ms(writeMs)} parse+validate+write, rest index catch-up); ` +
			`inserted ${report.inserted}, rejected ${report.rejected}`
	);
	console.log(`  raw _bulk_docs of the same rows: ${ms(rawMs)}`);
	console.log(`  ratio import (written) / raw: ${(writeMs / rawMs).toFixed(2)}×  (target ≤ 1.5×)`);
	console.log(`  ratio import (searchable) / raw: ${(importMs / rawMs).toFixed(2)}×`);
	console.log(`  index holds ${customers.index.count()} subscribers`);

	// 3. Look-ups through the API, with samples drawn from the generated data.
	const sample = [...generateSubscribers({ count: COUNT, source: 'digital', seed: SEED })].filter(
		(_, i) => i % Math.max(1, Math.floor(COUNT / LOOKUPS)) === 0
	);
	async function timeSearch(params: Record<string, string>) {
		const started = performance.now();
		const r = await fetch(`${server.url}/api/customers/search?${new URLSearchParams(params)}`, {
			headers: { cookie }
		});
		const body = (await r.json()) as { hits: unknown[] };
		return { ms: performance.now() - started, hits: body.hits.length };
	}
	const suites: Record<string, Record<string, string>[]> = {
		'phone, exact (as typed)': sample.map((s) => ({
			q: s.phones.split(';')[0]!,
			field: 'phone',
			match: 'exact'
		})),
		'phone, last 8 digits': sample.map((s) => ({
			q: normalizePhone(s.phones.split(';')[0]!).slice(-8),
			field: 'phone'
		})),
		'name, partial (given name)': sample.map((s) => ({ q: s.name.slice(1), field: 'name' })),
		'address, partial (road + number + estate)': sample.map((s) => ({
			q: s.address.slice(6, 16),
			field: 'address'
		}))
	};
	const p95: Record<string, number> = {};
	for (const [label, queries] of Object.entries(suites)) {
		const times: number[] = [];
		let found = 0;
		for (const q of queries) {
			const r = await timeSearch(q);
			times.push(r.ms);
			if (r.hits > 0) found++;
		}
		p95[label] = p(times, 0.95);
		console.log(
			`  search ${label}: p50 ${ms(p(times, 0.5))}, p95 ${ms(p95[label])} over ${times.length} (${found} found)`
		);
	}

	// 4. The store's own Mango _find on the same data (no index can serve these selectors).
	const find = async (query: object) =>
		(
			await couch(`/${settings.dbPrefix}customers/_find`, {
				method: 'POST',
				body: JSON.stringify(query)
			})
		).json();
	const findTimes: Record<string, number[]> = { phone: [], partial: [] };
	for (const s of sample.slice(0, FIND_RUNS)) {
		let started = performance.now();
		await find({
			selector: { phones: { $elemMatch: { $eq: normalizePhone(s.phones.split(';')[0]!) } } },
			limit: 51
		});
		findTimes.phone!.push(performance.now() - started);
		started = performance.now();
		await find({ selector: { address: { $regex: s.address.slice(6, 16) } }, limit: 51 });
		findTimes.partial!.push(performance.now() - started);
	}
	const findPhone = p(findTimes.phone!, 0.5);
	const findPartial = p(findTimes.partial!, 0.5);
	console.log(`  Mango _find phone: median ${ms(findPhone)} over ${FIND_RUNS}`);
	console.log(`  Mango _find address $regex: median ${ms(findPartial)} over ${FIND_RUNS}`);
	console.log(
		`  speed-up phone: ${(findPhone / p95['phone, exact (as typed)']!).toFixed(0)}× (p95 vs _find median); ` +
			`address: ${(findPartial / p95['address, partial (road + number + estate)']!).toFixed(0)}×`
	);
} finally {
	await server.close();
}
