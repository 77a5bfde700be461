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
