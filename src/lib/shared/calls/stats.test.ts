import { describe, expect, it } from 'vitest';
import { callStats, menuStats, type CallFacts } from './stats';

const call = (over: Partial<CallFacts>): CallFacts => ({
	callId: Math.random().toString(36),
	arrivedAt: 0,
	offeredAt: null,
	answeredAt: null,
	endedAt: null,
	agentId: null,
	outcome: 'completed',
	...over
});

describe('F25 call statistics', () => {
	it('counts outcomes, the service level and each agent’s answered calls and times', () => {
		const s = callStats(
			[
				call({ offeredAt: 2_000, answeredAt: 5_000, endedAt: 65_000, agentId: '1001' }),
				call({ offeredAt: 1_000, answeredAt: 30_000, endedAt: 90_000, agentId: '1001' }),
				call({ offeredAt: 500, answeredAt: 3_000, endedAt: 33_000, agentId: '1002' }),
				call({ outcome: 'abandoned' }),
				call({ outcome: 'timeout' }),
				call({ outcome: 'lost' })
			],
			20
		);
		expect(s).toMatchObject({ offered: 6, answered: 3, abandoned: 1, timeout: 1, lost: 1 });
		expect(s.serviceLevel).toBeCloseTo(2 / 3);
		expect(s.agents).toEqual([
			{ agentId: '1001', answered: 2, avgQueue: 1.5, avgTalk: 60, totalTalk: 120 },
			{ agentId: '1002', answered: 1, avgQueue: 0.5, avgTalk: 30, totalTalk: 30 }
		]);
	});

	it('has no service level without answered calls', () => {
		expect(callStats([call({ outcome: 'abandoned' })]).serviceLevel).toBeNull();
	});
});

describe('#18 F25 the voice menu’s figures', () => {
	it('counts where calls ended, the share the menu finished itself, and the nodes callers entered', () => {
		const stats = menuStats([
			{ outcome: 'agent', path: ['主菜单', '业务咨询'] },
			{ outcome: 'queued', path: ['主菜单'] },
			{ outcome: 'selfService', path: ['主菜单'] },
			{ outcome: 'selfService', path: ['主菜单', '业务咨询', '主菜单'] },
			{ outcome: 'callback', path: ['主菜单', '业务咨询'] },
			{ outcome: 'abandoned', path: ['主菜单'] }
		]);
		expect(stats).toEqual({
			calls: 6,
			toAgents: 2,
			selfService: 2,
			callbacks: 1,
			abandoned: 1,
			containment: 0.5,
			// A node entered twice in one call (back, then again) counts once for it.
			nodes: [
				{ title: '主菜单', calls: 6 },
				{ title: '业务咨询', calls: 3 }
			]
		});
		expect(menuStats([]).containment).toBeNull();
	});
});
