/**
 * F15 F31 #13 the ACD on its own, with a fake clock: who gets a call, in which order calls wait, wrap-up,
 * and what ends an offer or a call — Kamailio's reports from the call's own parties, or the offer time.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createAcd, type CallRecord, type QueuedCall } from './acd';

const OFFER_MS = 5_000;
const GRACE_MS = 3_000;

function setup() {
	const delivered: { callId: string; to: { number: string } | { code: number; reason: string } }[] =
		[];
	const offers: { agentId: string; callId: string }[] = [];
	const finished: CallRecord[] = [];
	const logged: string[] = [];
	const acd = createAcd({
		deliver: (call: QueuedCall, to) => delivered.push({ callId: call.callId, to }),
		onOffer: (agent, call) => void offers.push({ agentId: agent.agentId, callId: call.callId }),
		onFinished: (r) => finished.push(r),
		log: (m) => logged.push(m),
		maxWaitMs: 60_000,
		wrapUpMs: 10_000,
		offerMs: OFFER_MS,
		offerGraceMs: GRACE_MS
	});
	const agent = (agentId: string) => ({ agentId, userId: `user:${agentId}`, name: agentId });
	let n = 0;
	const call = (callid = `call-${++n}`) => {
		acd.arrived({
			callid,
			ftag: `${callid}-caller`,
			from: '13900000000',
			to: '96000',
			tindex: n,
			tlabel: n
		});
		return callid;
	};
	const answer = (callid: string) =>
		acd.answered({ callid, ftag: `${callid}-caller`, ttag: `${callid}-agent` });
	return { acd, delivered, offers, finished, logged, agent, call, answer };
}

/** Lets the offer's screen pop (a promise) and the delivery after it run. */
const settle = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
	vi.useFakeTimers({ now: new Date('2026-11-25T09:00:00+08:00') });
});
afterEach(() => {
	vi.useRealTimers();
});

describe('F15 automatic distribution', () => {
	it('offers a call to the ready agent idle the longest, and rings that agent after the screen pop', async () => {
		const { acd, agent, call, offers, delivered } = setup();
		acd.setAgentState(agent('1001'), 'ready');
		vi.advanceTimersByTime(1_000);
		acd.setAgentState(agent('1002'), 'ready');
		vi.advanceTimersByTime(1_000);
		acd.setAgentState(agent('1003'), 'notReady', 'meal');
		const id = call();
		await settle();
		expect(offers).toEqual([{ agentId: '1001', callId: id }]);
		expect(delivered).toEqual([{ callId: id, to: { number: '1001' } }]);
		expect(acd.agent('1001')).toMatchObject({ state: 'ringing', callId: id });
		expect(acd.agent('1002')?.state).toBe('ready');
		acd.stop();
	});

	it('never offers one agent two calls at once; the second call waits for a free agent', async () => {
		const { acd, agent, call, offers } = setup();
		acd.setAgentState(agent('1001'), 'ready');
		const first = call();
		const second = call();
		await settle();
		expect(offers.map((o) => o.callId)).toEqual([first]);
		expect(acd.queue().map((q) => q.callId)).toEqual([second]);
		// A ringing agent cannot make itself ready for another call in the middle of this one.
		expect(acd.setAgentState(agent('1001'), 'ready').state).toBe('ringing');
		expect(acd.queue().map((q) => q.callId)).toEqual([second]);
		acd.stop();
	});

	it('hands waiting calls out first come, first served', async () => {
		const { acd, agent, call, offers } = setup();
		const a = call();
		vi.advanceTimersByTime(100);
		const b = call();
		vi.advanceTimersByTime(100);
		const c = call();
		expect(acd.queue().map((q) => q.callId)).toEqual([a, b, c]);
		acd.setAgentState(agent('1001'), 'ready');
		acd.setAgentState(agent('1002'), 'ready');
		await settle();
		expect(offers).toEqual([
			{ agentId: '1001', callId: a },
			{ agentId: '1002', callId: b }
		]);
		expect(acd.queue().map((q) => q.callId)).toEqual([c]);
		acd.stop();
	});

	it('goes to the next agent when the offered one does not answer, and makes that one not ready', async () => {
		const { acd, agent, call, offers } = setup();
		acd.setAgentState(agent('1001'), 'ready');
		vi.advanceTimersByTime(10);
		acd.setAgentState(agent('1002'), 'ready');
		const id = call();
		await settle();
		acd.unanswered({ callid: id, tindex: 7, tlabel: 8, status: 408 });
		await settle();
		expect(acd.agent('1001')).toMatchObject({ state: 'notReady', reason: 'missed' });
		expect(offers.map((o) => o.agentId)).toEqual(['1001', '1002']);
		// 603: the agent pressed 拒接.
		acd.unanswered({ callid: id, tindex: 9, tlabel: 10, status: 603 });
		expect(acd.agent('1002')).toMatchObject({ state: 'notReady', reason: 'rejected' });
		expect(acd.queue().map((q) => q.callId)).toEqual([id]);
		acd.stop();
	});

	it('puts the agent through wrap-up after the call, then ready again with the next call offered', async () => {
		const { acd, agent, call, answer, offers, finished } = setup();
		acd.setAgentState(agent('1001'), 'ready');
		const id = call();
		await settle();
		answer(id);
		expect(acd.agent('1001')?.state).toBe('talking');
		const next = call();
		acd.ended({ callid: id, ftag: `${id}-caller`, ttag: `${id}-agent`, cancelled: false });
		expect(acd.agent('1001')?.state).toBe('wrapUp');
		expect(finished).toMatchObject([{ callId: id, outcome: 'completed', agentId: '1001' }]);
		vi.advanceTimersByTime(9_999);
		expect(acd.agent('1001')?.state).toBe('wrapUp');
		vi.advanceTimersByTime(1);
		await settle();
		expect(acd.agent('1001')).toMatchObject({ state: 'ringing', callId: next });
		expect(offers.map((o) => o.callId)).toEqual([id, next]);
		acd.stop();
	});

	it('gives a waiting call the fallback answer after the maximum wait, recorded as timeout', () => {
		const { acd, call, delivered, finished } = setup();
		const id = call();
		vi.advanceTimersByTime(60_250);
		expect(acd.queue()).toEqual([]);
		expect(delivered).toEqual([{ callId: id, to: { code: 480, reason: 'No agent available' } }]);
		expect(finished).toMatchObject([{ callId: id, outcome: 'timeout' }]);
		acd.stop();
	});
});

describe('#13 an offer that never rings ends with the offer time', () => {
	it('makes the ringing agent not ready ("missed") and records the call as lost when Kamailio says nothing', async () => {
		const { acd, agent, call, delivered, finished } = setup();
		acd.setAgentState(agent('1001'), 'ready');
		const id = call();
		await settle();
		expect(acd.agent('1001')?.state).toBe('ringing');
		await vi.advanceTimersByTimeAsync(OFFER_MS + GRACE_MS - 1);
		expect(acd.agent('1001')?.state).toBe('ringing');
		await vi.advanceTimersByTimeAsync(1);
		expect(acd.agent('1001')).toMatchObject({ state: 'notReady', reason: 'missed', callId: null });
		expect(finished).toMatchObject([{ callId: id, outcome: 'lost', agentId: '1001' }]);
		// Kamailio is told the call is over, in case its transaction still waits.
		expect(delivered.at(-1)).toEqual({
			callId: id,
			to: { code: 480, reason: 'No agent available' }
		});
		expect(acd.records().find((r) => r.callId === id)?.endedAt).not.toBeNull();
		acd.stop();
	});

	it('does not touch an offer Kamailio reported on in time', async () => {
		const { acd, agent, call, answer } = setup();
		acd.setAgentState(agent('1001'), 'ready');
		const id = call();
		await settle();
		await vi.advanceTimersByTimeAsync(OFFER_MS);
		answer(id);
		await vi.advanceTimersByTimeAsync(GRACE_MS * 10);
		expect(acd.agent('1001')).toMatchObject({ state: 'talking', callId: id });
		acd.stop();
	});
});

describe('#13 only the parties of a call end it', () => {
	it('ignores a CANCEL or BYE report without the call’s tags; the queued call and the agents stay as they were', async () => {
		const { acd, agent, call, answer, finished, logged } = setup();
		acd.setAgentState(agent('1001'), 'ready');
		const talking = call();
		await settle();
		answer(talking);
		const queued = call();
		const before = JSON.stringify(acd.agents());
		for (const forged of [
			{ callid: queued, ftag: 'made-up', cancelled: true },
			{ callid: queued, ftag: `${queued}-caller`, ttag: 'x', cancelled: false },
			{ callid: talking, ftag: `${talking}-caller`, cancelled: true },
			{ callid: talking, ftag: `${talking}-caller`, ttag: 'made-up', cancelled: false },
			{ callid: talking, ftag: 'made-up', ttag: `${talking}-agent`, cancelled: false },
			{ callid: 'no-such-call', ftag: 'a', ttag: 'b', cancelled: false }
		]) {
			acd.ended(forged);
		}
		expect(finished).toEqual([]);
		expect(JSON.stringify(acd.agents())).toBe(before);
		expect(acd.queue().map((q) => q.callId)).toEqual([queued]);
		// Five refused as not the call's parties; a BYE of a call the ACD does not know is nobody's business.
		expect(logged.filter((l) => l.includes('not from a party'))).toHaveLength(5);
		// An "answered" without the caller's tag does not make anyone talk either.
		acd.answered({ callid: queued, ftag: 'made-up', ttag: 'y' });
		expect(acd.records().find((r) => r.callId === queued)?.outcome).toBe('queued');
		// The real parties: the caller's CANCEL of the waiting call, the agent's BYE (tags reversed).
		acd.ended({ callid: queued, ftag: `${queued}-caller`, cancelled: true });
		acd.ended({
			callid: talking,
			ftag: `${talking}-agent`,
			ttag: `${talking}-caller`,
			cancelled: false
		});
		expect(finished.map((r) => [r.callId, r.outcome])).toEqual([
			[queued, 'abandoned'],
			[talking, 'completed']
		]);
		acd.stop();
	});

	it('does not let a second "offer" with a known Call-ID replace the call', async () => {
		const { acd, agent, call, offers } = setup();
		acd.setAgentState(agent('1001'), 'ready');
		acd.setAgentState(agent('1002'), 'ready');
		const id = call();
		acd.arrived({ callid: id, ftag: 'other', from: '1', to: '96000', tindex: 99, tlabel: 99 });
		await settle();
		expect(offers).toEqual([{ agentId: '1001', callId: id }]);
		expect(acd.agent('1002')?.state).toBe('ready');
		acd.stop();
	});
});

describe('#17 an agent’s own calls out (softphone or desk phone)', () => {
	it('make the agent busy: no hotline call is offered while one lasts; the agent goes back to ready after its BYE', async () => {
		const { acd, agent, call, offers } = setup();
		acd.setAgentState(agent('1001'), 'ready');
		acd.outboundStarted({ callid: 'out-1', ftag: 'out-1-agent', agent: '1001' });
		expect(acd.agent('1001')).toMatchObject({ state: 'talking', reason: 'outbound' });
		const waiting = call();
		await settle();
		expect(offers).toEqual([]);
		expect(acd.queue().map((q) => q.callId)).toEqual([waiting]);
		// A BYE that is not from the call's parties ends nothing; the carrier's BYE (tags reversed) does.
		acd.ended({ callid: 'out-1', ftag: 'someone', ttag: 'else', cancelled: false });
		expect(acd.agent('1001')?.state).toBe('talking');
		acd.ended({ callid: 'out-1', ftag: 'carrier', ttag: 'out-1-agent', cancelled: false });
		await settle();
		// Ready again, the waiting call is offered at once.
		expect(offers).toEqual([{ agentId: '1001', callId: waiting }]);
	});

	it('a not-ready agent stays not ready, with the reason, after a call that failed (busy, no answer)', () => {
		const { acd, agent } = setup();
		acd.setAgentState(agent('1002'), 'notReady', 'training');
		acd.outboundStarted({ callid: 'out-2', ftag: 'out-2-agent', agent: '1002' });
		expect(acd.agent('1002')?.state).toBe('talking');
		acd.outboundFailed({ callid: 'out-2' });
		expect(acd.agent('1002')).toMatchObject({ state: 'notReady', reason: 'training' });
		// Told twice (Kamailio's failure, then the phone's own word): nothing more happens.
		acd.agentHungUp('1002', 'out-2');
		expect(acd.agent('1002')).toMatchObject({ state: 'notReady', reason: 'training' });
	});

	it('leaves an agent alone who is already in a hotline call (a consultation) or not signed in', async () => {
		const { acd, agent, call, answer } = setup();
		acd.setAgentState(agent('1003'), 'ready');
		const hotline = call();
		await settle();
		answer(hotline);
		acd.outboundStarted({ callid: 'consult', ftag: 'c', agent: '1003' });
		expect(acd.agent('1003')).toMatchObject({ state: 'talking', callId: hotline });
		acd.outboundStarted({ callid: 'ghost', ftag: 'g', agent: '9999' });
		expect(acd.agent('9999')).toBeNull();
	});
});

describe('#17 a colleague’s call and a caller transferred in', () => {
	it('a consultation makes the consulted colleague busy too: no hotline call meanwhile, back to ready after it', async () => {
		const { acd, agent, call, answer, offers } = setup();
		acd.setAgentState(agent('1001'), 'ready');
		acd.setAgentState(agent('1002'), 'notReady', 'break');
		const hotline = call();
		await settle();
		answer(hotline);
		acd.setAgentState(agent('1002'), 'ready');
		// 1001 consults 1002: Kamailio reports the call placed by 1001 and ringing 1002.
		acd.outboundStarted({ callid: 'consult', ftag: 'c-1001', agent: '1001' });
		acd.agentCalled({ callid: 'consult', ftag: 'c-1001', agent: '1002', kind: 'internal' });
		expect(acd.agent('1001')).toMatchObject({ state: 'talking', callId: hotline });
		expect(acd.agent('1002')).toMatchObject({ state: 'talking', reason: 'internal' });
		const waiting = call();
		await settle();
		expect(offers.map((o) => o.callId)).toEqual([hotline]);
		// The consultation ends (1002 hangs up): 1002 is ready again and gets the waiting call.
		acd.ended({ callid: 'consult', ftag: 'b-1002', ttag: 'c-1001', cancelled: false });
		await settle();
		expect(offers.at(-1)).toEqual({ agentId: '1002', callId: waiting });
		// 1001 is still in the hotline call.
		expect(acd.agent('1001')).toMatchObject({ state: 'talking', callId: hotline });
	});

	it('the transferred caller takes the consultation’s place: the colleague stays busy until that call ends, then gets back the state from before the consultation', () => {
		const { acd, agent } = setup();
		acd.setAgentState(agent('1002'), 'notReady', 'training');
		acd.agentCalled({ callid: 'consult', ftag: 'c-1001', agent: '1002', kind: 'internal' });
		// The carrier follows the REFER: a new call to 1002 that replaces the consultation.
		acd.agentCalled({ callid: 'moved', ftag: 'carrier', agent: '1002', kind: 'transfer' });
		expect(acd.agent('1002')).toMatchObject({
			state: 'talking',
			reason: 'transfer',
			callId: 'moved'
		});
		// The consultation's end (its BYE, the phone's own word) leaves the caller's call as it is.
		acd.ended({ callid: 'consult', ftag: 'b-1002', ttag: 'c-1001', cancelled: false });
		acd.agentHungUp('1002', 'consult');
		expect(acd.agent('1002')).toMatchObject({ state: 'talking', callId: 'moved' });
		acd.ended({ callid: 'moved', ftag: 'b-1002', ttag: 'carrier', cancelled: false });
		expect(acd.agent('1002')).toMatchObject({ state: 'notReady', reason: 'training' });
	});

	it('a colleague’s call that is not answered gives the state back; one phone’s word ends only its own side', () => {
		const { acd, agent } = setup();
		acd.setAgentState(agent('1001'), 'ready');
		acd.setAgentState(agent('1002'), 'ready');
		acd.outboundStarted({ callid: 'busy', ftag: 'f', agent: '1001' });
		acd.agentCalled({ callid: 'busy', ftag: 'f', agent: '1002', kind: 'internal' });
		acd.outboundFailed({ callid: 'busy' });
		expect(acd.agent('1001')?.state).toBe('ready');
		expect(acd.agent('1002')?.state).toBe('ready');
		acd.outboundStarted({ callid: 'talk', ftag: 't', agent: '1001' });
		acd.agentCalled({ callid: 'talk', ftag: 't', agent: '1002', kind: 'internal' });
		acd.agentHungUp('1001', 'talk');
		expect(acd.agent('1001')?.state).toBe('ready');
		expect(acd.agent('1002')?.state).toBe('talking');
		// Nor does another agent's word end a call that is not theirs.
		acd.agentHungUp('1003', 'talk');
		expect(acd.agent('1002')?.state).toBe('talking');
	});
});
