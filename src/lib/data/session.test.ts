/**
 * #15 the warm start: a session this device remembers opens the app at once, and the server's word comes
 * after — a refusal signs out here too (syncs stopped, the copy forgotten), a newer answer replaces the copy,
 * no answer keeps it as this device's copy (offline), and an answer that arrives after another sign-in does
 * not undo it. The settings live in Dexie on fake-indexeddb; the server is a stub answering when told.
 */
import { beforeEach, expect, test, vi } from 'vitest';
import { until } from '../../../test/helpers/until';
import type { SessionAnswer } from '#shared/wire/accounts';
import type * as ApiClient from '$lib/api/client';

/** The server's `GET /api/session`, answered by the test; sign-in (`POST`) answers at once. */
const server = vi.hoisted(() => ({
	pending: [] as {
		resolve: (v: unknown) => void;
		reject: (e: unknown) => void;
		/** Settles after the app's own handler of the answer ran (handlers run in the order they came). */
		handled: Promise<unknown>;
	}[],
	signInAnswer: null as unknown,
	calls: [] as string[]
}));
const syncs = vi.hoisted(() => ({ events: [] as string[] }));

vi.mock('$lib/api/client', async (importActual) => {
	const actual = await importActual<typeof ApiClient>();
	return {
		...actual,
		onSessionLost: () => {},
		api: (path: string, _schema: unknown, init: { method?: string } = {}) => {
			server.calls.push(`${init.method ?? 'GET'} ${path}`);
			if (init.method === 'POST') return Promise.resolve(server.signInAnswer);
			let settle: Omit<(typeof server.pending)[number], 'handled'> | null = null;
			const answer = new Promise((resolve, reject) => (settle = { resolve, reject }));
			// Queued on the next tick, after the caller's `await` took its place in the answer's line.
			queueMicrotask(() =>
				server.pending.push({
					...settle!,
					handled: answer.then(
						() => {},
						() => {}
					)
				})
			);
			return answer;
		},
		send: () => Promise.resolve()
	};
});
vi.mock('$lib/replication/config-db', () => ({
	startConfigSync: () => syncs.events.push('config:start'),
	stopConfigSync: () => syncs.events.push('config:stop'),
	destroyConfigReplica: () => Promise.resolve()
}));
vi.mock('$lib/replication/tickets-db', () => ({
	startTicketSync: ({ userId }: { userId: string }) => syncs.events.push(`tickets:start ${userId}`),
	stopTicketSync: () => syncs.events.push('tickets:stop'),
	destroyTicketReplica: () => Promise.resolve(),
	noteSharedReplicaOwner: () => {}
}));
vi.mock('./device-health', () => ({ startHealthReports: () => {}, stopHealthReports: () => {} }));
vi.mock('$lib/data/tickets', () => ({ ensureDeviceCode: () => Promise.resolve() }));

const { ApiError } = await import('$lib/api/client');
const { cachedSession } = await import('$lib/cache/db');
const { restoreSession, signIn, signOut } = await import('./session');
const { session } = await import('$lib/state/session.svelte');

const answer = (username: string, permissions: string[]): SessionAnswer => ({
	user: {
		id: `user:${username}`,
		username,
		name: username,
		departmentId: 'department:center',
		agentId: '4001',
		permissions,
		roleId: 'role:agent',
		mustChangePassword: false
	},
	home: 'agent'
});

beforeEach(async () => {
	server.pending = [];
	server.calls = [];
	syncs.events = [];
	session.user = null;
	session.isOfflineCopy = false;
	session.endedByServer = false;
	await cachedSession.clear();
});

test('#15 a remembered session opens the app before the server answers; its refusal then signs out here', async () => {
	await cachedSession.set(answer('warm', ['call.take']));
	await restoreSession();
	// Open with the copy, replicas started, while the server has not answered yet.
	expect(session.user?.id).toBe('user:warm');
	expect(session.isOfflineCopy).toBe(false);
	expect(syncs.events).toEqual(['config:start', 'tickets:start user:warm']);
	expect(server.pending).toHaveLength(1);

	server.pending[0]!.reject(new ApiError('unauthorized', 401));
	await until(() => session.user === null, 'the sign-out');
	expect(session.endedByServer).toBe(true);
	expect(syncs.events).toContain('config:stop');
	expect(syncs.events).toContain('tickets:stop');
	await until(async () => (await cachedSession.get()) === undefined, 'the copy forgotten');
});

test('#15 the server’s newer answer replaces the remembered copy (a permission granted meanwhile)', async () => {
	await cachedSession.set(answer('newer', ['call.take']));
	await restoreSession();
	expect(session.can('customer.search')).toBe(false);
	server.pending[0]!.resolve(answer('newer', ['call.take', 'customer.search']));
	await until(() => session.can('customer.search'), 'the newer permissions');
	await until(
		async () => (await cachedSession.get())?.user.permissions.length === 2,
		'the copy updated'
	);
	expect(session.user?.id).toBe('user:newer');
});

test('#15 without an answer (offline) the remembered session stays, marked as this device’s copy', async () => {
	await cachedSession.set(answer('offline', ['call.take']));
	await restoreSession();
	server.pending[0]!.reject(new ApiError('network', 0));
	await until(() => session.isOfflineCopy, 'the offline mark');
	expect(session.user?.id).toBe('user:offline');
	expect((await cachedSession.get())?.user.id).toBe('user:offline');
	expect(syncs.events).not.toContain('tickets:stop');
});

test('#15 a refusal that arrives after a new sign-in does not sign the new user out', async () => {
	await cachedSession.set(answer('old', ['call.take']));
	await restoreSession();
	server.signInAnswer = answer('fresh', ['call.take']);
	await signIn({ username: 'fresh', password: 'password-123', extension: '' });
	expect(session.user?.id).toBe('user:fresh');

	server.pending[0]!.reject(new ApiError('unauthorized', 401));
	await server.pending[0]!.handled;
	expect(syncs.events).not.toContain('config:stop');
	expect(session.user?.id).toBe('user:fresh');
	expect(session.endedByServer).toBe(false);
	expect((await cachedSession.get())?.user.id).toBe('user:fresh');
	// The new user's replica is the one that runs.
	await until(() => syncs.events.includes('tickets:start user:fresh'), 'the new replica');
	expect(syncs.events.filter((e) => e.startsWith('tickets:')).at(-1)).toBe(
		'tickets:start user:fresh'
	);
});

test('#15 a sign-out while the server’s answer is on its way is not undone by that answer', async () => {
	await cachedSession.set(answer('brief', ['call.take']));
	await restoreSession();
	await signOut();
	expect(session.user).toBe(null);
	server.pending[0]!.resolve(answer('brief', ['call.take']));
	await server.pending[0]!.handled;
	expect(session.user).toBe(null);
	expect(await cachedSession.get()).toBe(undefined);
	expect(syncs.events.at(-1)).not.toMatch(/:start/);
});

test('#15 without a remembered session the server decides before anything opens', async () => {
	let restored = false;
	const restoring = restoreSession().then(() => (restored = true));
	await until(() => server.pending.length === 1, 'the question to the server');
	expect(restored).toBe(false);
	expect(session.user).toBe(null);
	server.pending[0]!.resolve(answer('cold', []));
	await restoring;
	expect(session.user?.id).toBe('user:cold');
	expect((await cachedSession.get())?.user.id).toBe('user:cold');
});
