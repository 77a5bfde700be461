import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config';

describe('loadConfig', () => {
	it('works with no variables at all', () => {
		const config = loadConfig({});
		expect(config).toMatchObject({
			port: 3000,
			couchUrl: null,
			dbPrefix: 'cc_',
			adminPassword: null,
			telephony: 'auto'
		});
		expect(config.dataDir).toMatch(/\/data$/);
	});

	it('treats empty variables as unset and converts numbers', () => {
		const config = loadConfig({ PORT: '8080', ADMIN_PASSWORD: '', SESSION_TTL_HOURS: '2' });
		expect(config.port).toBe(8080);
		expect(config.adminPassword).toBeNull();
		expect(config.sessionTtlMs).toBe(7_200_000);
	});

	it('names every bad variable', () => {
		expect(() => loadConfig({ PORT: 'abc', COUCHDB_URL: 'not a url', TELEPHONY: 'maybe' })).toThrow(
			ConfigError
		);
		try {
			loadConfig({ PORT: 'abc', TELEPHONY: 'maybe' });
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
			loadConfig(secrets);
		} catch (err) {
			message = (err as Error).message;
		}
		expect(message).toContain('ADMIN_PASSWORD');
		expect(message).toContain('COUCHDB_URL');
		expect(message).toContain('not shown');
		for (const value of ['Pa$5w', 'hunter2-secret', 'k3y']) expect(message).not.toContain(value);
	});

	it('reads the request timeout, the idle session timeout and trusted proxies', () => {
		const config = loadConfig({
			REQUEST_TIMEOUT_SECONDS: '5',
			SESSION_IDLE_MINUTES: '20',
			TRUST_PROXY: '10.0.0.1, ::1'
		});
		expect(config.requestTimeoutMs).toBe(5_000);
		expect(config.sessionIdleMs).toBe(1_200_000);
		expect(config.trustedProxies).toEqual(['10.0.0.1', '::1']);
		expect(() => loadConfig({ TRUST_PROXY: 'proxy.example' })).toThrow(ConfigError);
	});

	it('reads TURN servers for softphones and refuses what is not a STUN/TURN URI', () => {
		const config = loadConfig({
			TURN_URLS: 'stun:turn.example.cn:3478, turns:turn.example.cn:5349',
			TURN_SECRET: 'k'
		});
		expect(config.ice).toEqual({
			urls: ['stun:turn.example.cn:3478', 'turns:turn.example.cn:5349'],
			secret: 'k',
			username: '',
			password: ''
		});
		expect(() => loadConfig({ TURN_URLS: 'http://turn.example.cn' })).toThrow(/TURN_URLS/);
	});
});

describe('F29 branch offices', () => {
	const key = 'k'.repeat(16);

	it('reads BRANCHES at the center and the link settings at a branch', () => {
		const config = loadConfig({
			BRANCHES: `north=${key}@department:north-ops+department:north-field; south=${key}2@department:south`
		});
		expect(config.branches).toEqual([
			{ name: 'north', key, departmentIds: ['department:north-ops', 'department:north-field'] },
			{ name: 'south', key: `${key}2`, departmentIds: ['department:south'] }
		]);
		expect(config.center).toBeNull();
		expect(
			loadConfig({ CENTER_URL: 'http://center:3000/', BRANCH_NAME: 'north', BRANCH_KEY: key })
				.center
		).toEqual({ url: 'http://center:3000', name: 'north', key });
		expect(loadConfig({}).branches).toEqual([]);
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
			expect(() => loadConfig({ BRANCHES: bad })).toThrow(ConfigError);
			expect(() => loadConfig({ BRANCHES: bad })).toThrow(/BRANCHES/);
		}
		expect(() => loadConfig({ BRANCHES: `north=${key}@dept:a` })).not.toThrow(new RegExp(key));
		expect(() => loadConfig({ CENTER_URL: 'http://center:3000' })).toThrow(/BRANCH_NAME/);
		expect(() =>
			loadConfig({ CENTER_URL: 'http://center:3000', BRANCH_NAME: 'north', BRANCH_KEY: 'short' })
		).toThrow(/BRANCH_KEY/);
		expect(() =>
			loadConfig({ CENTER_URL: 'ftp://center', BRANCH_NAME: 'north', BRANCH_KEY: key })
		).toThrow(/CENTER_URL/);
	});
});
