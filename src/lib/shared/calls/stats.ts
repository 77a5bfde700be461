/**
 * F25 F31 call statistics from the stored call records: totals of a period (offered, answered, abandoned,
 * timed out, lost, service level) and per agent (calls answered, average queue time, talk time).
 */
import type { CallStats, MenuOutcome, MenuStats } from '../wire/telephony';

/** What the figures need of a call (a call record has it). */
export interface CallFacts {
	callId: string;
	arrivedAt: number;
	offeredAt: number | null;
	answeredAt: number | null;
	endedAt: number | null;
	agentId: string | null;
	outcome: string;
}

const seconds = (ms: number) => Math.round(ms / 100) / 10;
const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

export function callStats(calls: readonly CallFacts[], serviceLevelSeconds = 20): CallStats {
	const answered = calls.filter((c) => c.answeredAt !== null);
	const byAgent = new Map<string, CallFacts[]>();
	for (const c of answered) {
		if (!c.agentId) continue;
		byAgent.set(c.agentId, [...(byAgent.get(c.agentId) ?? []), c]);
	}
	return {
		offered: calls.length,
		answered: answered.length,
		abandoned: calls.filter((c) => c.outcome === 'abandoned').length,
		timeout: calls.filter((c) => c.outcome === 'timeout').length,
		lost: calls.filter((c) => c.outcome === 'lost').length,
		serviceLevel: answered.length
			? answered.filter((c) => c.answeredAt! - c.arrivedAt <= serviceLevelSeconds * 1000).length /
				answered.length
			: null,
		serviceLevelSeconds,
		agents: [...byAgent.entries()]
			.map(([agentId, list]) => {
				const talk = list.map((c) => (c.endedAt ?? c.answeredAt!) - c.answeredAt!);
				return {
					agentId,
					answered: list.length,
					avgQueue: seconds(avg(list.map((c) => (c.offeredAt ?? c.arrivedAt) - c.arrivedAt))),
					avgTalk: seconds(avg(talk)),
					totalTalk: seconds(talk.reduce((a, b) => a + b, 0))
				};
			})
			.sort((a, b) => b.answered - a.answered || a.agentId.localeCompare(b.agentId))
	};
}

/** What the menu's figures need of a menu call (a menu call record has it). */
export interface MenuFacts {
	outcome: MenuOutcome;
	/** The titles of the nodes the caller entered, in order. */
	path: string[];
}

/** #18 F25 the voice menu's figures: where its calls ended, its containment, and the nodes callers used. */
export function menuStats(calls: readonly MenuFacts[]): MenuStats {
	const count = (outcome: MenuOutcome) => calls.filter((c) => c.outcome === outcome).length;
	const nodes = new Map<string, number>();
	for (const call of calls) {
		// A node entered twice in one call (back, then again) counts once for that call.
		for (const title of new Set(call.path)) nodes.set(title, (nodes.get(title) ?? 0) + 1);
	}
	const selfService = count('selfService');
	const callbacks = count('callback');
	return {
		calls: calls.length,
		toAgents: count('agent') + count('queued'),
		selfService,
		callbacks,
		abandoned: count('abandoned'),
		containment: calls.length ? (selfService + callbacks) / calls.length : null,
		nodes: [...nodes.entries()]
			.map(([title, n]) => ({ title, calls: n }))
			.sort((a, b) => b.calls - a.calls || a.title.localeCompare(b.title, 'zh-CN'))
	};
}
