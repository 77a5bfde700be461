/**
 * The only module that imports Dexie: per-workstation settings and caches that are not replicated.
 * Keep every historical version() declaration (Dexie upgrades users from any of them).
 */
import Dexie, { type EntityTable } from 'dexie';
import type { SessionAnswer } from '#shared/wire/accounts';
import type { CustomerHit } from '#shared/customers/customer';

export interface Setting {
	key: string;
	value: unknown;
}

/** A subscriber this device looked up, kept for offline look-ups of returning callers. */
export type CachedCustomer = CustomerHit & { seenAt: string };

class CacheDb extends Dexie {
	settings!: EntityTable<Setting, 'key'>;
	customers!: EntityTable<CachedCustomer, '_id'>;

	constructor() {
		super('cc-cache');
		this.version(1).stores({ settings: 'key' });
		this.version(2).stores({ settings: 'key', customers: '_id, *phones, seenAt' });
	}
}

const db = new CacheDb();

async function get<T>(key: string): Promise<T | undefined> {
	return (await db.settings.get(key))?.value as T | undefined;
}

async function put(key: string, value: unknown): Promise<void> {
	await db.settings.put({ key, value });
}

/** What this workstation remembers (F1): the last user, their agent ID, and the desk phone number. */
export interface Workstation {
	username: string;
	agentId: string | null;
	extension: string;
}

export const workstation = {
	get: () => get<Workstation>('workstation'),
	set: (value: Workstation) => put('workstation', value)
};

export const localePreference = {
	get: () => get<string>('locale'),
	set: (value: string) => put('locale', value)
};

/** The signed-in user, kept so that the app opens offline (F27); cleared at sign-out. */
export const cachedSession = {
	get: () => get<SessionAnswer>('session'),
	set: (value: SessionAnswer) => put('session', value),
	clear: () => db.settings.delete('session')
};

/** What the app reads at start-up, in one request (#15: the warm start waits for nothing else). */
export interface StartupSettings {
	locale?: string;
	workstation?: Workstation;
	session?: SessionAnswer;
	pendingSignOut: boolean;
}

export async function startupSettings(): Promise<StartupSettings> {
	const [locale, station, session, pending] = await db.settings.bulkGet([
		'locale',
		'workstation',
		'session',
		'pendingSignOut'
	]);
	return {
		locale: locale?.value as string | undefined,
		workstation: station?.value as Workstation | undefined,
		session: session?.value as SessionAnswer | undefined,
		pendingSignOut: pending?.value === true
	};
}

/** A sign-out made offline: the server session is ended at the next start with a network. */
export const pendingSignOut = {
	get: async () => (await get<boolean>('pendingSignOut')) === true,
	set: (value: boolean) => put('pendingSignOut', value)
};

/** This device's code for ticket numbers, issued once by the server. */
export const deviceCode = {
	get: () => get<string>('deviceCode'),
	set: (value: string) => put('deviceCode', value)
};

/** The next number of today's tickets on this device (starts at 1 each day). */
export async function nextTicketCounter(day: string): Promise<number> {
	return db.transaction('rw', db.settings, async () => {
		const current = (await get<{ day: string; n: number }>('ticketCounter')) ?? { day, n: 0 };
		const n = current.day === day ? current.n + 1 : 1;
		await put('ticketCounter', { day, n });
		return n;
	});
}

const CUSTOMER_CACHE_MAX = 2000;

/** Recently looked-up subscribers (DESIGN.md: Dexie caches), bounded to the most recent ones. */
export const customerCache = {
	async remember(hits: CustomerHit[]): Promise<void> {
		if (hits.length === 0) return;
		const seenAt = new Date().toISOString();
		await db.customers.bulkPut(hits.map((h) => ({ ...h, seenAt })));
		const excess = (await db.customers.count()) - CUSTOMER_CACHE_MAX;
		if (excess > 0) {
			const oldest = await db.customers.orderBy('seenAt').limit(excess).primaryKeys();
			await db.customers.bulkDelete(oldest);
		}
	},
	byPhone: (phone: string) => db.customers.where('phones').equals(phone).toArray()
};
