/**
 * Subscribers (用户资料) as imported from the operator's billing exports, one source per TV network: digital
 * (数) and analog (模). A subscriber is identified by its source and account number, so re-importing the same
 * export updates documents instead of duplicating them. Phone numbers are normalised once, here.
 */
import * as v from 'valibot';
import { normalizePhone } from '../phone';

export const CUSTOMER_SOURCES = ['digital', 'analog'] as const;
export type CustomerSource = (typeof CUSTOMER_SOURCES)[number];

/** What the search returns for one subscriber. */
export const CustomerHit = v.object({
	/** `digital:<account>` or `analog:<account>`. */
	_id: v.string(),
	source: v.picklist(CUSTOMER_SOURCES),
	account: v.string(),
	name: v.string(),
	/** Normalised (digits only, see normalizePhone). */
	phones: v.array(v.string()),
	address: v.string(),
	area: v.string(),
	smartCard: v.string(),
	stbSerial: v.string(),
	products: v.array(v.string()),
	status: v.string()
});
export type CustomerHit = v.InferOutput<typeof CustomerHit>;

/** A subscriber as stored. */
export type Customer = CustomerHit & { _rev?: string; type: 'customer'; importedAt: string };

export const customerId = (source: CustomerSource, account: string) => `${source}:${account}`;

/** Column names the billing exports use, English or Chinese, mapped to our fields. */
const HEADER_ALIASES: Record<string, keyof ImportRow> = {
	account: 'account',
	账号: 'account',
	用户编号: 'account',
	客户编号: 'account',
	name: 'name',
	姓名: 'name',
	户名: 'name',
	用户名称: 'name',
	phones: 'phones',
	phone: 'phones',
	电话: 'phones',
	联系电话: 'phones',
	address: 'address',
	地址: 'address',
	装机地址: 'address',
	area: 'area',
	区域: 'area',
	片区: 'area',
	smartcard: 'smartCard',
	智能卡号: 'smartCard',
	stbserial: 'stbSerial',
	机顶盒号: 'stbSerial',
	机顶盒序列号: 'stbSerial',
	products: 'products',
	产品: 'products',
	套餐: 'products',
	status: 'status',
	状态: 'status'
};

export function headerField(header: string): keyof ImportRow | undefined {
	const key = header
		.normalize('NFKC')
		.trim()
		.replace(/[\s_-]/g, '')
		.toLowerCase();
	return HEADER_ALIASES[key] ?? HEADER_ALIASES[header.trim()];
}

const LIST_SEPARATOR = /[;；,，/、|]+/;
const splitList = (value: string | number | (string | number)[]): string[] =>
	(Array.isArray(value) ? value.map(String) : String(value).split(LIST_SEPARATOR))
		.map((s) => s.trim())
		.filter(Boolean);

const ListInput = v.optional(
	v.union([v.string(), v.number(), v.array(v.union([v.string(), v.number()]))]),
	''
);

const text = (max: number) =>
	v.pipe(
		v.optional(v.union([v.string(), v.number()]), ''),
		v.transform((s) => String(s).normalize('NFKC').trim()),
		v.maxLength(max, 'too_long')
	);

/** One row of an export, before normalisation. Problems are codes (shown in the user's language). */
export const ImportRow = v.object({
	account: v.pipe(
		text(40),
		v.nonEmpty('account_required'),
		v.regex(/^[\w.-]+$/, 'account_invalid')
	),
	name: v.pipe(text(80), v.nonEmpty('name_required')),
	phones: v.pipe(
		ListInput,
		v.transform(splitList),
		v.maxLength(10, 'too_many_phones'),
		v.transform((list) => list.map((p) => ({ raw: p, phone: normalizePhone(p) }))),
		v.check((list) => list.every((p) => /^\d{5,20}$/.test(p.phone)), 'phone_invalid'),
		v.transform((list) => [...new Set(list.map((p) => p.phone))])
	),
	address: text(200),
	area: text(60),
	smartCard: v.pipe(text(30), v.regex(/^[\dA-Za-z]*$/, 'smart_card_invalid')),
	stbSerial: text(40),
	products: v.pipe(ListInput, v.transform(splitList), v.maxLength(50, 'too_many_products')),
	status: text(20)
});
export type ImportRow = v.InferInput<typeof ImportRow>;

export type RowResult = { ok: true; customer: Customer } | { ok: false; reason: string };

/** Validates and normalises one row into a customer document (without `_rev`). */
export function customerFromRow(
	source: CustomerSource,
	row: Record<string, unknown>,
	importedAt: string
): RowResult {
	const parsed = v.safeParse(ImportRow, row);
	if (!parsed.success) {
		const issue = parsed.issues[0]!;
		const field = v.getDotPath(issue) ?? '';
		const code = issue.message.includes(' ') ? `${field}_invalid` : issue.message;
		return { ok: false, reason: code };
	}
	const r = parsed.output;
	return {
		ok: true,
		customer: {
			_id: customerId(source, r.account),
			type: 'customer',
			source,
			account: r.account,
			name: r.name,
			phones: r.phones,
			address: r.address,
			area: r.area,
			smartCard: r.smartCard,
			stbSerial: r.stbSerial,
			products: r.products,
			status: r.status,
			importedAt
		}
	};
}

/** Whether an import changes anything a user would see (so unchanged rows are not rewritten). */
export function sameCustomer(a: Customer, b: Customer): boolean {
	const fields = [
		'source',
		'account',
		'name',
		'phones',
		'address',
		'area',
		'smartCard',
		'stbSerial',
		'products',
		'status'
	] as const;
	return fields.every((f) => JSON.stringify(a[f]) === JSON.stringify(b[f]));
}

export const SEARCH_FIELDS = ['auto', 'phone', 'account', 'smartCard', 'name', 'address'] as const;
export type SearchField = (typeof SEARCH_FIELDS)[number];

export const CustomerSearchQuery = v.object({
	q: v.pipe(v.string('required'), v.trim(), v.nonEmpty('required'), v.maxLength(80, 'too_long')),
	field: v.optional(v.picklist(SEARCH_FIELDS), 'auto'),
	match: v.optional(v.picklist(['exact', 'partial']), 'partial'),
	source: v.optional(v.picklist(['all', ...CUSTOMER_SOURCES]), 'all'),
	limit: v.optional(
		v.pipe(v.string(), v.transform(Number), v.integer(), v.minValue(1), v.maxValue(200)),
		'50'
	)
});
export type CustomerSearchQuery = v.InferOutput<typeof CustomerSearchQuery>;

export const RejectedRow = v.object({
	line: v.number(),
	reason: v.string(),
	account: v.optional(v.string())
});
export type RejectedRow = v.InferOutput<typeof RejectedRow>;

/** What an import (F18) did: counts, and the first rejected rows with line numbers and reasons. */
export const ImportReport = v.object({
	source: v.picklist(CUSTOMER_SOURCES),
	rows: v.number(),
	inserted: v.number(),
	updated: v.number(),
	unchanged: v.number(),
	rejected: v.number(),
	/** At most the first MAX_REPORTED of them (server/services/customer-import.ts). */
	rejectedRows: v.array(RejectedRow),
	ms: v.number()
});
export type ImportReport = v.InferOutput<typeof ImportReport>;
