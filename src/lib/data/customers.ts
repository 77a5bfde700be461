/**
 * Subscribers for the UI (F16/F18): searched on the server (the database is a city's worth, never copied to
 * devices); what this device looked up is kept in Dexie so a returning caller is recognised offline too.
 * The import uploads the export file with progress.
 */
import * as v from 'valibot';
import { api, ApiError } from '$lib/api/client';
import { customerCache } from '$lib/cache/db';
import { normalizePhone } from '#shared/phone';
import type { CustomerSource, SearchField } from '#shared/customers/customer';
import {
	CustomerCount,
	CustomerHit,
	CustomerSearchResult,
	ImportProgress,
	ImportReport
} from '#shared/wire/customers';
import { ApiErrorBody } from '#shared/wire/errors';

export type { CustomerHit, ImportReport };

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
		const { hits, more } = await api(`/customers/search?${params}`, CustomerSearchResult);
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
	return api(`/customers/${encodeURIComponent(id)}`, CustomerHit).catch(() => null);
}

/** How many subscribers are searchable now. */
export async function customerCount(): Promise<number | null> {
	return (await api('/customers/status', CustomerCount).catch(() => null))?.count ?? null;
}

/** F16: the subscribers registered under a caller's number (exact match on the normalised number). */
export function customersOfCaller({ caller }: { caller: string }): Promise<CustomerResults> {
	return searchCustomers({ q: caller, field: 'phone', match: 'exact' });
}

/**
 * Streams an export file to the server. `onProgress` gets the fraction sent; the server reads as it writes,
 * so the fraction follows the import itself. Resolves with the report once everything is searchable.
 */
/** Where an import is: the upload's share sent, and what the server has read and checked of the file (#17). */
export interface ImportStage {
	uploaded: number;
	/** The share of the file the server has read and checked, its rows so far, and whether it indexes now. */
	server: { fraction: number; rows: number; indexing: boolean } | null;
}

const PROGRESS_POLL_MS = 500;

export function importCustomers({
	file,
	source,
	onProgress
}: {
	file: File;
	source: CustomerSource;
	onProgress: (stage: ImportStage) => void;
}): Promise<ImportReport> {
	const format = /\.jsonl?$/i.test(file.name) ? 'jsonl' : 'csv';
	const id = crypto.randomUUID();
	const stage: ImportStage = { uploaded: 0, server: null };
	// The server's side of it, asked twice a second until the import answers.
	let polling = true;
	const poll = async () => {
		while (polling) {
			await new Promise((r) => setTimeout(r, PROGRESS_POLL_MS));
			const now = await api(`/customers/import/progress?id=${id}`, ImportProgress).catch(
				() => null
			);
			if (!now || !polling) continue;
			stage.server = {
				fraction: now.total ? Math.min(1, now.bytes / now.total) : 0,
				rows: now.rows,
				indexing: now.phase !== 'reading'
			};
			onProgress({ ...stage });
		}
	};
	void poll();
	return new Promise<ImportReport>((resolve, reject) => {
		const xhr = new XMLHttpRequest();
		xhr.open('POST', `/api/customers/import?source=${source}&format=${format}&progress=${id}`);
		xhr.responseType = 'json';
		xhr.upload.onprogress = (e) => {
			if (!e.lengthComputable) return;
			stage.uploaded = e.loaded / e.total;
			onProgress({ ...stage });
		};
		xhr.onload = () => {
			const body: unknown = xhr.response;
			const report = v.safeParse(ImportReport, body);
			if (xhr.status === 200 && report.success) return resolve(report.output);
			const refusal = v.safeParse(v.partial(ApiErrorBody), body);
			const err = refusal.success ? refusal.output : {};
			reject(new ApiError(err.code ?? 'internal', xhr.status, err));
		};
		xhr.onerror = () => reject(new ApiError('network', 0));
		xhr.send(file);
	}).finally(() => (polling = false));
}
