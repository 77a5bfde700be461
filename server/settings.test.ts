import { describe, expect, it } from 'vitest';
import { SettingsError, loadSettings } from './settings';

describe('loadSettings', () => {
	it('works with no variables at all', () => {
		const settings = loadSettings({});
		expect(settings).toMatchObject({
			port: 3000,
			couchUrl: null,
			dbPrefix: 'cc_',
			adminPassword: null,
			telephony: 'auto'
		});
		expect(settings.dataDir).toMatch(/\/data$/);
	});

	it('treats empty variables as unset and converts numbers', () => {
		const settings = loadSettings({ PORT: '8080', ADMIN_PASSWORD: '', SESSION_TTL_HOURS: '2' });
		expect(settings.port).toBe(8080);
		expect(settings.adminPassword).toBeNull();
		expect(settings.sessionTtlMs).toBe(7_200_000);
	});

	it('names every bad variable', () => {
		expect(() =>
			loadSettings({ PORT: 'abc', COUCHDB_URL: 'not a url', TELEPHONY: 'maybe' })
		).toThrow(SettingsError);
		try {
			loadSettings({ PORT: 'abc', TELEPHONY: 'maybe' });
		} catch (err) {
			expect((err as Error).message).toContain('PORT');
			expect((err as Error).message).toContain('TELEPHONY');
		}
	});

	it('#13 names a bad secret without echoing it', () => {
		const secrets = {
			ADMIN_PASSWORD: 'Pa$5w',
			COUCHDB_URL: 'http//admin:hunter2-secret@couch:5984',
			BRANCH_KEY: 'k3y'
		};
		let message = '';
		try {
			loadSettings(secrets);
		} catch (err) {
			message = (err as Error).message;
		}
		expect(message).toContain('ADMIN_PASSWORD');
		expect(message).toContain('COUCHDB_URL');
		expect(message).toContain('not shown');
		for (const value of ['Pa$5w', 'hunter2-secret', 'k3y']) expect(message).not.toContain(value);
	});

	it('reads the request timeout, the idle session timeout and trusted proxies', () => {
		const settings = loadSettings({
			REQUEST_TIMEOUT_SECONDS: '5',
			SESSION_IDLE_MINUTES: '20',
			TRUST_PROXY: '10.0.0.1, ::1'
		});
		expect(settings.requestTimeoutMs).toBe(5_000);
		expect(settings.sessionIdleMs).toBe(1_200_000);
		expect(settings.trustedProxies).toEqual(['10.0.0.1', '::1']);
		expect(() => loadSettings({ TRUST_PROXY: 'proxy.example' })).toThrow(SettingsError);
	});

	it('reads TURN servers for softphones and refuses what is not a STUN/TURN URI', () => {
		const settings = loadSettings({
			TURN_URLS: 'stun:turn.example.cn:3478, turns:turn.example.cn:5349',
			TURN_SECRET: 'k'
		});
		expect(settings.ice).toEqual({
			urls: ['stun:turn.example.cn:3478', 'turns:turn.example.cn:5349'],
			secret: 'k',
			username: '',
			password: ''
		});
		expect(() => loadSettings({ TURN_URLS: 'http://turn.example.cn' })).toThrow(/TURN_URLS/);
	});
});

describe('F29 branch offices', () => {
	const key = 'k'.repeat(16);

	it('reads BRANCHES at the center and the link settings at a branch', () => {
		const settings = loadSettings({
			BRANCHES: `north=${key}@department:north-ops+department:north-field; south=${key}2@department:south`
		});
		expect(settings.branches).toEqual([
			{ name: 'north', key, departmentIds: ['department:north-ops', 'department:north-field'] },
			{ name: 'south', key: `${key}2`, departmentIds: ['department:south'] }
		]);
		expect(settings.center).toBeNull();
		expect(
			loadSettings({ CENTER_URL: 'http://center:3000/', BRANCH_NAME: 'north', BRANCH_KEY: key })
				.center
		).toEqual({ url: 'http://center:3000', name: 'north', key });
		expect(loadSettings({}).branches).toEqual([]);
	});

	it('names BRANCHES or the link variables when they are wrong, without echoing a key', () => {
		for (const bad of [
			'north',
			`north=short@department:a`,
			`North=${key}@department:a`,
			`north=${key}@`,
			`north=${key}@dept:a`,
			`north=${key}@department:a;north=${key}@department:b`
		]) {
			expect(() => loadSettings({ BRANCHES: bad })).toThrow(SettingsError);
			expect(() => loadSettings({ BRANCHES: bad })).toThrow(/BRANCHES/);
		}
		expect(() => loadSettings({ BRANCHES: `north=${key}@dept:a` })).not.toThrow(new RegExp(key));
		expect(() => loadSettings({ CENTER_URL: 'http://center:3000' })).toThrow(/BRANCH_NAME/);
		expect(() =>
			loadSettings({ CENTER_URL: 'http://center:3000', BRANCH_NAME: 'north', BRANCH_KEY: 'short' })
		).toThrow(/BRANCH_KEY/);
		expect(() =>
			loadSettings({ CENTER_URL: 'ftp://center', BRANCH_NAME: 'north', BRANCH_KEY: key })
		).toThrow(/CENTER_URL/);
	});
});
