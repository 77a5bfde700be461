import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { iceServers } from './ice';

const none = { urls: [], secret: '', username: '', password: '' };

describe('#5 ICE servers for softphones behind NAT', () => {
	it('are none without TURN_URLS: host candidates only', () => {
		expect(iceServers(none, '1001', 3_600_000)).toEqual([]);
	});

	it('split STUN from TURN and give TURN the fixed credentials', () => {
		const servers = iceServers(
			{
				urls: ['stun:turn.example.cn:3478', 'turn:turn.example.cn:3478?transport=udp'],
				secret: '',
				username: 'cc',
				password: 'pw'
			},
			'1001',
			3_600_000
		);
		expect(servers).toEqual([
			{ urls: ['stun:turn.example.cn:3478'] },
			{ urls: ['turn:turn.example.cn:3478?transport=udp'], username: 'cc', credential: 'pw' }
		]);
	});

	it('issue time-limited coturn REST credentials bound to the agent with TURN_SECRET', () => {
		const now = Date.UTC(2026, 10, 26, 8, 0, 0);
		const [turn] = iceServers(
			{ urls: ['turns:turn.example.cn:5349'], secret: 's3cret', username: '', password: '' },
			'1001',
			12 * 3_600_000,
			now
		);
		const expiry = now / 1000 + 12 * 3600;
		expect(turn?.username).toBe(`${expiry}:1001`);
		// What coturn computes from its static-auth-secret for the same username.
		expect(turn?.credential).toBe(
			createHmac('sha1', 's3cret').update(`${expiry}:1001`).digest('base64')
		);
		expect(turn?.credential).toMatch(/^[A-Za-z0-9+/]{27}=$/);
	});
});
