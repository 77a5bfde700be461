/**
 * Subscribers for the UI (F16/F18): searched on the server (the database is a city's worth, never copied to
 * devices); what this device looked up is kept in Dexie so a returning caller is recognised offline too.
 * The import uploads the export file with progress.
 */
import { untypedApi, ApiError } from '$lib/api/client';
import { customerCache } from '$lib/cache/db';
import { normalizePhone } from '#shared/phone';
import type {
	CustomerHit,
	CustomerSource,
	ImportReport,
	SearchField
} from '#shared/customers/customer';

export type { ImportReport };
import type { ApiErrorBody } from '#shared/errors';

export type { CustomerHit };

export interface CustomerSearch {
	q: string;
	field?: SearchField;
	match?: 'exact' | 'partial';
	source?: 'all' | CustomerSource;
}

export interface CustomerResults {
	hits: CustomerHit[];
	more: boolean;
	/** The answer came from this device's cache because the server could not be reached. */
	offline: boolean;
}

export async function searchCustomers(search: CustomerSearch): Promise<CustomerResults> {
	const params = new URLSearchParams({
		q: search.q,
		field: search.field ?? 'auto',
		match: search.match ?? 'partial',
		source: search.source ?? 'all'
	});
	try {
		const { hits, more } = await untypedApi<{ hits: CustomerHit[]; more: boolean }>(
			`/customers/search?${params}`
		);
		await rememberCustomers({ hits });
		return { hits, more, offline: false };
	} catch (err) {
		if (!(err instanceof ApiError) || err.code !== 'network') throw err;
		const phone = normalizePhone(search.q);
		const hits = phone.length >= 5 ? await customerCache.byPhone(phone) : [];
		return { hits, more: false, offline: true };
	}
}

/** Keeps subscribers the server found (e.g. with a screen pop) so this device recognises them offline. */
export async function rememberCustomers({ hits }: { hits: CustomerHit[] }): Promise<void> {
	await customerCache.remember(hits).catch(() => {});
}

/** One subscriber by id, or null when unknown or unreachable. */
export function getCustomer({ id }: { id: string }): Promise<CustomerHit | null> {
	return untypedApi<CustomerHit>(`/customers/${encodeURIComponent(id)}`).catch(() => null);
}

/** How many subscribers are searchable now. */
export async function customerCount(): Promise<number | null> {
	return (
		(await untypedApi<{ count: number }>('/customers/status').catch(() => null))?.count ?? null
	);
}

/** F16: the subscribers registered under a caller's number (exact match on the normalised number). */
export function customersOfCaller({ caller }: { caller: string }): Promise<CustomerResults> {
	return searchCustomers({ q: caller, field: 'phone', match: 'exact' });
}

/**
 * Streams an export file to the server. `onProgress` gets the fraction sent; the server reads as it writes,
 * so the fraction follows the import itself. Resolves with the report once everything is searchable.
 */
export function importCustomers({
	file,
	source,
	onProgress
}: {
	file: File;
	source: CustomerSource;
	onProgress: (fraction: number) => void;
}): Promise<ImportReport> {
	const format = /\.jsonl?$/i.test(file.name) ? 'jsonl' : 'csv';
	return new Promise((resolve, reject) => {
		const xhr = new XMLHttpRequest();
		xhr.open('POST', `/api/customers/import?source=${source}&format=${format}`);
		xhr.responseType = 'json';
		xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
		xhr.onload = () => {
			const body = xhr.response as (ImportReport & Partial<ApiErrorBody>) | null;
			if (xhr.status === 200 && body) resolve(body);
			else reject(new ApiError(body?.code ?? 'internal', xhr.status, body ?? {}));
		};
		xhr.onerror = () => reject(new ApiError('network', 0));
		xhr.send(file);
	});
}
