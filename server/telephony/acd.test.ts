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

describe('#16 taking call routing over from another app server', () => {
	/** The server that routed calls until it died: its agents' snapshot is what the next one starts from. */
	async function before() {
		const old = setup();
		old.acd.setAgentState(old.agent('1001'), 'ready');
		vi.advanceTimersByTime(1_000);
		old.acd.setAgentState(old.agent('1002'), 'ready');
		old.acd.setAgentState(old.agent('1003'), 'notReady', 'lunch');
		old.acd.setAgentState(old.agent('1004'), 'ready');
		old.acd.setAgentState(old.agent('1005'), 'ready');
		const talking = old.call('talking-call');
		await settle();
		old.answer(talking); // 1001, idle the longest
		const ringing = old.call('ringing-call');
		await settle(); // rings 1002
		old.acd.outboundStarted({ callid: 'out-call', ftag: 'out-tag', agent: '1004' });
		const snapshot = old.acd.snapshot();
		old.acd.stop();
		return { snapshot, talking, ringing };
	}

	it('keeps every agent signed in with the state they had, and a talking call ends by its BYE into the record', async () => {
		const { snapshot, talking } = await before();
		const next = setup();
		next.acd.adopt(snapshot);
		const state = (id: string) => next.acd.agent(id)?.state;
		expect([state('1001'), state('1002'), state('1003'), state('1004'), state('1005')]).toEqual([
			'talking',
			'ringing',
			'notReady',
			'talking',
			'ready'
		]);
		expect(next.acd.agent('1003')?.reason).toBe('lunch');
		// The BYE of the call talking across the takeover: its record is finished, the agent wraps up.
		next.acd.ended({ callid: talking, ftag: 'x', ttag: 'y', cancelled: false });
		expect(next.finished).toEqual([
			expect.objectContaining({ callId: talking, outcome: 'completed', agentId: '1001' })
		]);
		expect(state('1001')).toBe('wrapUp');
		// The agent's own call out ends by its BYE too, back to ready.
		next.acd.ended({ callid: 'out-call', ftag: 'out-tag', ttag: 'far', cancelled: false });
		expect(state('1004')).toBe('ready');
	});

	it('a call ringing across the takeover is answered, or — told again as waiting — goes to the next agent', async () => {
		const { snapshot, ringing } = await before();
		const answered = setup();
		answered.acd.adopt(snapshot);
		answered.acd.answered({ callid: ringing, ftag: `${ringing}-caller`, ttag: 'agent-tag' });
		expect(answered.acd.agent('1002')?.state).toBe('talking');
		answered.acd.ended({
			callid: ringing,
			ftag: 'agent-tag',
			ttag: `${ringing}-caller`,
			cancelled: false
		});
		expect(answered.finished).toEqual([
			expect.objectContaining({ callId: ringing, outcome: 'completed', agentId: '1002' })
		]);

		// Unanswered while nobody listened: Kamailio tells the new server of it as waiting (a new
		// transaction): the agent it rang missed it, and the longest-idle ready agent gets it, once.
		const missed = setup();
		missed.acd.adopt(snapshot);
		missed.acd.arrived({
			callid: ringing,
			ftag: `${ringing}-caller`,
			from: '13900000000',
			to: '96000',
			tindex: 77,
			tlabel: 78,
			at: Date.now() - 20_000
		});
		await settle();
		expect(missed.acd.agent('1002')).toMatchObject({ state: 'notReady', reason: 'missed' });
		expect(missed.offers).toEqual([{ agentId: '1005', callId: ringing }]);
		expect(missed.delivered).toEqual([{ callId: ringing, to: { number: '1005' } }]);
		// Told once more (a second link): the same transaction is not offered twice.
		missed.acd.arrived({
			callid: ringing,
			ftag: `${ringing}-caller`,
			from: '13900000000',
			to: '96000',
			tindex: 77,
			tlabel: 78,
			at: Date.now()
		});
		await settle();
		expect(missed.offers).toHaveLength(1);
	});

	it('a waiting call told again keeps its place by when it arrived, and its wait counts from then', () => {
		const next = setup();
		next.acd.arrived({
			callid: 'late',
			ftag: 'a',
			from: '1',
			to: '96000',
			tindex: 1,
			tlabel: 1,
			at: Date.now()
		});
		next.acd.arrived({
			callid: 'early',
			ftag: 'b',
			from: '2',
			to: '96000',
			tindex: 2,
			tlabel: 2,
			at: Date.now() - 50_000
		});
		expect(next.acd.records().find((r) => r.callId === 'early')?.arrivedAt).toBe(
			Date.now() - 50_000
		);
		// The maximum wait (60 s) passes for the early call first: its fallback answer is given.
		vi.advanceTimersByTime(10_500);
		expect(next.delivered).toEqual([
			{ callId: 'early', to: { code: 480, reason: 'No agent available' } }
		]);
	});

	it('an unanswered report of a call it never heard of (with its parties) is taken on as waiting', async () => {
		const next = setup();
		next.acd.setAgentState(next.agent('2001'), 'ready');
		next.acd.unanswered({
			callid: 'unknown',
			tindex: 5,
			tlabel: 6,
			status: 408,
			ftag: 'caller',
			from: '13800000000',
			to: '96000'
		});
		await settle();
		expect(next.offers).toEqual([{ agentId: '2001', callId: 'unknown' }]);
		// Without its parties it stays unknown (nothing to offer).
		next.acd.unanswered({ callid: 'other', tindex: 7, tlabel: 8, status: 408 });
		expect(next.acd.records().map((r) => r.callId)).toEqual(['unknown']);
	});
});
