/**
 * The engine's call handling with a fake rtpengine (recording its ng commands) and real SIP UAs on
 * loopback: the faults the integration test does not reach — a missing prompt, a refused hand-off, no
 * route, a caller hanging up while the agent rings, a broken rtpengine.
 */
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../test/helpers/until';
import { startIvrEngine, type IvrEngine, type IvrEngineOptions, type IvrEvents } from './engine';
import type { MenuTree } from './menu';
import { NgError, type DtmfEvent, type DtmfListener, type NgClient } from './rtpengine';
import { SipUa, type CallEnd, type OutgoingCall } from './sip-ua';

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
	for (const c of cleanups.splice(0).reverse()) await c();
});

const menu: MenuTree = {
	root: 'main',
	nodes: {
		main: {
			prompt: 'greeting',
			keys: { '1': { kind: 'submenu', node: 'tv' }, '0': { kind: 'queue', queue: 'general' } }
		},
		tv: { prompt: 'missing', keys: { '0': { kind: 'queue', queue: 'tv' } } }
	},
	noInputMs: 60_000
};

function fakeNg(o: { failOffer?: boolean } = {}) {
	const commands: { command: string; callId: string; detail?: string }[] = [];
	const ng = {
		offer: (c: { callId: string }) => {
			commands.push({ command: 'offer', callId: c.callId });
			return o.failOffer
				? Promise.reject(new NgError('offer', 'Ran out of ports'))
				: Promise.resolve('v=0\r\ns=to-agent\r\n');
		},
		answer: (c: { callId: string }, sdp: string) => {
			commands.push({ command: 'answer', callId: c.callId, detail: sdp });
			return Promise.resolve('v=0\r\ns=to-caller\r\n');
		},
		playMedia: (c: { callId: string }, file: string) => {
			commands.push({ command: 'play media', callId: c.callId, detail: file });
			return Promise.resolve(60_000);
		},
		stopMedia: (c: { callId: string }) => {
			commands.push({ command: 'stop media', callId: c.callId });
			return Promise.resolve();
		},
		delete: (callId: string) => {
			commands.push({ command: 'delete', callId });
			return Promise.resolve();
		}
	};
	return { ng: ng as unknown as NgClient, commands };
}

async function setup(extra: Partial<IvrEngineOptions> = {}, ngOptions = {}) {
	const ua = await SipUa.listen({ host: '127.0.0.1', t1Ms: 40 });
	const caller = await SipUa.listen({ host: '127.0.0.1', t1Ms: 40 });
	cleanups.push(
		() => ua.close(),
		() => caller.close()
	);
	const dtmf = Object.assign(new EventEmitter<{ dtmf: [DtmfEvent] }>(), {
		address: { host: '127.0.0.1', port: 0 },
		close: () => {}
	}) as DtmfListener;
	const { ng, commands } = fakeNg(ngOptions);
	const engine: IvrEngine = await startIvrEngine({
		sip: ua,
		ng,
		dtmf,
		menu,
		promptFile: (id) => {
			if (id === 'missing') throw new Error('no such prompt');
			return `/prompts/${id}.wav`;
		},
		host: '127.0.0.1',
		...extra
	});
	cleanups.push(() => engine.close());
	const events: { name: keyof IvrEvents; data: Record<string, unknown> }[] = [];
	for (const name of ['handoff', 'handoff-failed', 'menu', 'ended', 'bridged', 'prompt'] as const) {
		engine.on(name, ((data: Record<string, unknown>) => void events.push({ name, data })) as never);
	}
	const call = (): Promise<OutgoingCall> =>
		new Promise((resolve, reject) => {
			const c = caller.invite({
				target: `sip:4000@127.0.0.1:${ua.address.port}`,
				sdp: 'v=0\r\ns=caller\r\n'
			});
			c.once('answered', () => resolve(c));
			c.once('ended', (how) => reject(new Error(`not answered: ${how.status}`)));
		});
	const press = (c: OutgoingCall, digit: string) =>
		dtmf.emit('dtmf', { callId: c.callId, fromTag: c.localTag, digit, at: Date.now() });
	const has = (
		name: keyof IvrEvents,
		where: (d: Record<string, unknown>) => boolean = () => true
	) => events.some((e) => e.name === name && where(e.data));
	return { engine, ua, caller, commands, events, call, press, has, dtmf };
}

describe('IVR engine', () => {
	it('answers with rtpengine’s SDP for the caller and plays the root prompt', async () => {
		const t = await setup();
		const c = await t.call();
		await until(() => t.has('prompt'), 'the greeting');
		expect(t.commands.map((x) => x.command)).toEqual(['offer', 'answer', 'play media']);
		expect(t.commands[1]!.detail).toMatch(/m=audio \d+ RTP\/AVP 8 0 101/);
		expect(t.commands[1]!.detail).toContain(`m=audio ${t.engine.sink.port} `);
		expect(t.commands[2]!.detail).toBe('/prompts/greeting.wav');
		c.hangup();
		await until(() => t.has('ended'), 'the end');
		expect(t.commands.at(-1)).toEqual({ command: 'delete', callId: c.callId });
		expect(t.engine.active()).toEqual([]);
	});

	it('a missing prompt does not strand the caller: the menu goes on and still takes keys', async () => {
		const t = await setup();
		const c = await t.call();
		await until(() => t.has('prompt'), 'the greeting');
		t.press(c, '1');
		await until(
			() => t.has('menu', (d) => d['phase'] === 'waiting' && d['node'] === 'tv'),
			'waiting at tv'
		);
		// Digits of another party in the call (the agent's tag) are not the caller's.
		t.dtmf.emit('dtmf', { callId: c.callId, fromTag: 'someone-else', digit: '0', at: 0 });
		t.press(c, '0');
		await until(() => t.has('handoff'), 'the hand-off');
		expect(t.events.filter((e) => e.name === 'handoff').map((e) => e.data)).toEqual([
			expect.objectContaining({ queue: 'tv', path: ['main', 'tv'], keys: ['1', '0'] })
		]);
		c.hangup();
		await until(() => t.has('ended'), 'the end');
	});

	it('without a route, handoff is emitted and the caller stays until hanging up', async () => {
		const t = await setup();
		const c = await t.call();
		t.press(c, '0');
		await until(() => t.has('handoff'), 'the hand-off');
		expect(t.ua.calls.outgoing).toBe(0);
		c.hangup();
		await until(
			() => t.has('ended', (d) => d['phase'] === 'queued' && d['by'] === 'caller'),
			'the end'
		);
	});

	it('a refused hand-off brings the caller back to the menu; a later one can be cancelled by the caller’s hang-up', async () => {
		const agent = await SipUa.listen({ host: '127.0.0.1', t1Ms: 40 });
		cleanups.push(() => agent.close());
		let refuse = true;
		const ringing: { end: Promise<CallEnd> }[] = [];
		agent.on('invite', (inc) => {
			if (refuse) return inc.reject(486, 'Busy Here');
			ringing.push({ end: new Promise((r) => inc.once('ended', r)) });
		});
		const t = await setup({ route: () => `sip:agent@127.0.0.1:${agent.address.port}` });
		const c = await t.call();
		t.press(c, '0');
		await until(() => t.has('handoff-failed', (d) => d['status'] === 486), 'the refusal');
		await until(
			() =>
				t.has('menu', (d) => d['phase'] === 'prompting' && (d['keys'] as string[]).length === 1),
			'back in the menu'
		);
		refuse = false;
		t.press(c, '0');
		await until(() => ringing.length === 1, 'the agent ringing');
		c.hangup();
		// The agent's leg is cancelled (it never answered).
		expect(await ringing[0]!.end).toEqual({ by: 'cancel', status: 487 });
		await until(() => t.has('ended'), 'the end');
		expect(t.has('bridged')).toBe(false);
	});

	it('the agent hanging up after the bridge hangs up the caller', async () => {
		const agent = await SipUa.listen({ host: '127.0.0.1', t1Ms: 40 });
		cleanups.push(() => agent.close());
		agent.on('invite', (inc) => {
			expect(inc.sdp).toBe('v=0\r\ns=to-agent\r\n');
			inc.answer('v=0\r\ns=agent\r\n');
			inc.once('ack', () => inc.hangup());
		});
		const t = await setup({ route: () => `sip:agent@127.0.0.1:${agent.address.port}` });
		const c = await t.call();
		const callerEnd = new Promise<CallEnd>((r) => c.once('ended', r));
		t.press(c, '0');
		expect(await callerEnd).toEqual({ by: 'remote', status: 0 });
		await until(() => t.has('ended', (d) => d['by'] === 'engine'), 'the end');
		// rtpengine was answered again with the agent's SDP before the call was deleted.
		expect(t.commands.filter((x) => x.command === 'answer').map((x) => x.detail)).toContain(
			'v=0\r\ns=agent\r\n'
		);
		expect(t.commands.at(-1)!.command).toBe('delete');
	});

	it('the caller hears the waiting prompt while the agent’s phone rings; it stops before they talk', async () => {
		const agent = await SipUa.listen({ host: '127.0.0.1', t1Ms: 40 });
		cleanups.push(() => agent.close());
		const t = await setup({
			route: () => `sip:agent@127.0.0.1:${agent.address.port}`,
			waitPrompt: 'hold'
		});
		agent.on('invite', (inc) => {
			// The phone rings until the caller hears the waiting prompt, then the agent answers.
			void until(
				() => t.commands.some((x) => x.detail === '/prompts/hold.wav'),
				'the waiting prompt'
			).then(() => inc.answer('v=0\r\ns=agent\r\n'));
		});
		const c = await t.call();
		t.press(c, '0');
		await until(() => t.has('bridged'), 'the bridge');
		const after = t.commands.slice(t.commands.findIndex((x) => x.detail === '/prompts/hold.wav'));
		expect(after.map((x) => x.command)).toEqual(['play media', 'stop media', 'answer']);
		expect(after[2]!.detail).toBe('v=0\r\ns=agent\r\n');
		c.hangup();
		await until(() => t.has('ended'), 'the end');
	});

	it('rtpengine refusing the offer: the caller gets 488 and nothing stays', async () => {
		const t = await setup({}, { failOffer: true });
		await expect(t.call()).rejects.toThrow('not answered: 488');
		await until(() => t.has('ended'), 'the end');
		expect(t.commands.map((x) => x.command)).toEqual(['offer', 'delete']);
	});
});
