/**
 * #18 F23 the voice menu in front of the agents, as the app runs it beside Kamailio: rtpengine as a child
 * (all media), the menu's SIP user agent on `IVR_SIP_PORT`, the prompts spoken once into the telephony folder,
 * and the engine. Kamailio sends the carrier's calls to the hotlines of `IVR_HOTLINES` here; when the caller
 * chooses an agent (or runs out of tries) the engine calls the same hotline through Kamailio, which puts the
 * call into the distribution with the menu call's Call-ID — and the screen pop asks `summary` for what the
 * caller did. The caller's media stays anchored in rtpengine, bridged to the agent's phone.
 */
import { join } from 'node:path';
import type { Settings } from '../settings';
import type { IvrSummary } from '../telephony/calls';
import { startIvrEngine, type Handoff } from './engine';
import type { MenuTree } from './menu';
import { synthesize } from './prompts';
import { listenDtmf, startRtpengine } from './rtpengine';
import { SipUa } from './sip-ua';

/** What the callers hear, by prompt id (spoken by espeak-ng's Mandarin voice when the menu starts). */
export const DEFAULT_PROMPTS: Record<string, string> = {
	welcome:
		'您好，欢迎致电有线电视客服热线。业务咨询和故障报修请按1，查询营业时间请按2，人工服务请按0。',
	welcomeRetry: '输入有误。业务咨询和故障报修请按1，查询营业时间请按2，人工服务请按0。',
	service: '数字电视请按1，宽带上网请按2，返回上一级请按星号，人工服务请按0。',
	hours: '营业厅每天上午八点半至下午五点半营业，客服热线二十四小时为您服务。',
	waiting: '正在为您转接人工服务，请稍候。'
};

/** The menu until administrators configure their own (语音导航, #18). */
export const DEFAULT_MENU: MenuTree & { titles: Record<string, string> } = {
	root: 'main',
	nodes: {
		main: {
			prompt: 'welcome',
			retryPrompt: 'welcomeRetry',
			keys: {
				'1': { kind: 'submenu', node: 'service' },
				'2': { kind: 'announcement', prompt: 'hours' },
				'0': { kind: 'queue', queue: 'general' }
			}
		},
		service: {
			prompt: 'service',
			keys: {
				'1': { kind: 'queue', queue: 'tv' },
				'2': { kind: 'queue', queue: 'broadband' },
				'*': { kind: 'back' },
				'0': { kind: 'queue', queue: 'general' }
			}
		}
	},
	fallbackQueue: 'general',
	titles: { main: '主菜单', service: '业务咨询和故障报修' }
};

export interface VoiceMenu {
	/** What the caller of this menu call did, while the call lasts (the screen pop's part). */
	summary(menuCallId: string): IvrSummary | undefined;
	/** The calls in the menu or handed over, now. */
	active(): string[];
	stop(): Promise<void>;
}

export async function startVoiceMenu(o: {
	/** Kamailio's address: the menu listens beside it and calls the hotline through it. */
	sipHost: string;
	sipPort: number;
	ivr: Settings['ivr'];
	/** The telephony folder: prompts go to `prompts/`. */
	dir: string;
	log: (msg: string) => void;
}): Promise<VoiceMenu> {
	const menu = DEFAULT_MENU;
	const files: Record<string, string> = {};
	for (const [id, text] of Object.entries(DEFAULT_PROMPTS)) {
		files[id] = await synthesize(text, { dir: join(o.dir, 'prompts') });
	}
	const dtmf = await listenDtmf({ host: o.sipHost, port: o.ivr.dtmfPort });
	const stops: (() => unknown)[] = [() => dtmf.close()];
	const stopAll = async () => {
		for (const stop of stops.reverse()) await stop();
	};
	try {
		const rtp = await startRtpengine({
			interface: o.sipHost,
			ng: { host: o.sipHost, port: o.ivr.ngPort },
			dtmfLog: dtmf.address,
			portMin: o.ivr.rtpMin,
			portMax: o.ivr.rtpMax
		});
		stops.push(() => rtp.stop());
		const sip = await SipUa.listen({ host: o.sipHost, port: o.ivr.sipPort, user: 'ivr' });
		stops.push(() => sip.close());
		const handed = new Map<string, Handoff>();
		const engine = await startIvrEngine({
			sip,
			ng: rtp.ng,
			dtmf,
			menu,
			promptFile: (id) => files[id]!,
			waitPrompt: 'waiting',
			host: o.sipHost,
			// The same hotline again, now from the menu: Kamailio queues it to the agents.
			route: (h) => `sip:${h.called}@${o.sipHost}:${o.sipPort}`,
			log: (msg) => o.log(`voice menu: ${msg}`)
		});
		stops.push(() => engine.close());
		engine.on('handoff-failed', (d) =>
			o.log(`voice menu: ${d.callId} not taken by the distribution (${d.status}); back to the menu`)
		);
		engine.on('handoff', (h) => handed.set(h.callId, h));
		engine.on('ended', (e) => handed.delete(e.callId));
		o.log(
			`voice menu on ${o.ivr.hotlines.join(', ')}: SIP ${o.sipHost}:${o.ivr.sipPort}, rtpengine ${rtp.pid}`
		);
		return {
			summary(menuCallId) {
				const h = handed.get(menuCallId);
				if (!h) return undefined;
				return {
					queue: h.queue,
					path: h.path.map((id) => ({ id, title: menu.titles[id] ?? id })),
					keys: h.keys,
					reason: h.reason
				};
			},
			active: () => engine.active(),
			stop: stopAll
		};
	} catch (err) {
		await stopAll();
		throw err;
	}
}
