/**
 * #18 F23 the voice menu in front of the agents, as the app runs it beside Kamailio: rtpengine as a child
 * (all media), the menu's SIP user agent on `IVR_SIP_PORT`, the prompts spoken once into the telephony folder,
 * and the engine. Kamailio sends the carrier's calls to the hotlines of `IVR_HOTLINES` here; when the caller
 * chooses an agent (or runs out of tries) the engine calls the same hotline through Kamailio, which puts the
 * call into the distribution with the menu call's Call-ID — and the screen pop asks `summary` for what the
 * caller did. The caller's media stays anchored in rtpengine, bridged to the agent's phone. Which menu a call
 * hears is the administrators' (语音导航, `voiceMenu` configuration documents) for the hotline dialled, as it
 * was when the call arrived; its prompts are spoken when a menu is saved, before its first caller.
 */
import { join } from 'node:path';
import type { NoticeDoc, VoiceMenuDoc } from '#shared/docs/config';
import { DEFAULT_VOICE_MENU } from '#shared/voice-menu';
import type { Settings } from '../settings';
import type { IvrSummary } from '../telephony/calls';
import type { MenuCallRecord } from '../telephony/call-records';
import type { CallbackRequest } from './callback-requests';
import { startIvrEngine, type Handoff } from './engine';
import { validateMenu, type MenuPhase } from './menu';
import { menuTreeOf, type ConfiguredMenu } from './menu-config';
import { synthesize } from './prompts';
import { listenDtmf, startRtpengine } from './rtpengine';
import { parseSipUri, SipUa } from './sip-ua';

/** Where the menus come from: the configuration in memory (`config-index.ts`), `voiceMenu` documents. */
export interface VoiceMenuSource {
	menus(): VoiceMenuDoc[];
	/** A fault notice by id, when there is one (to speak it ahead of its first caller). */
	notice?(id: string): NoticeDoc | undefined;
	/** Calls `listener` with each changed document's id; returns the way to stop listening. */
	onChange(listener: (id: string) => void): () => void;
}

/**
 * The menu of a hotline: the one naming it, else the `default` one, else the product's own — a broken one
 * (it cannot be saved so, but a replicated or hand-edited document can be) is skipped with a log line.
 */
export function menuChooser(source: VoiceMenuSource | undefined, log: (msg: string) => void) {
	const built = new Map<string, ConfiguredMenu | null>();
	const builtIn = menuTreeOf(DEFAULT_VOICE_MENU);
	const tree = (doc: VoiceMenuDoc): ConfiguredMenu | null => {
		const version = `${doc._id}@${doc._rev ?? ''}`;
		if (!built.has(version)) {
			try {
				const t = menuTreeOf(doc);
				validateMenu(t);
				built.set(version, t);
			} catch (err) {
				log(`voice menu: ${doc.name} (${doc._id}) cannot run: ${(err as Error).message}`);
				built.set(version, null);
			}
		}
		return built.get(version)!;
	};
	return (called: string): ConfiguredMenu => {
		const menus = source?.menus() ?? [];
		const own = menus.find((m) => m.hotlines.includes(called));
		const fallback = menus.find((m) => m.key === 'default');
		return (own && tree(own)) ?? (fallback && tree(fallback)) ?? builtIn;
	};
}

/** What a caller hears before the menu: "故障公告：…" with each notice's text, each ended as a sentence. */
export function spokenNotices(texts: string[]): string {
	return `故障公告：${texts.map((t) => (/[。！？.!?]$/.test(t.trim()) ? t.trim() : `${t.trim()}。`)).join('')}`;
}

/** Phases in which the caller is being served by the menu itself (a notice, an announcement). */
const SERVED: MenuPhase[] = ['intro', 'announcing', 'closing'];

interface MenuCall {
	menu: ConfiguredMenu;
	/** Titles of the fault notices spoken before the menu. */
	notices: string[];
	caller: string;
	hotline: string;
	arrivedAt: number;
	/** Heard a notice or an announcement. */
	heard: boolean;
	callback: boolean;
	handoff?: Handoff;
	bridged: boolean;
}

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
	/** The menus administrators keep (语音导航); without it, the product's own menu on every hotline. */
	menus?: VoiceMenuSource;
	/**
	 * The fault notices (故障公告) for a caller, by their number: spoken before the menu's first node, and
	 * named on the agent's screen pop (the caller has heard them already).
	 */
	noticesFor?: (callerNumber: string) => { title: string; text: string }[];
	/** A caller asked to be called back: recorded at once (`callback-requests.ts`). */
	callbackRequest?: (request: CallbackRequest) => void;
	/** Called once per call as it ends, with where it ended (the call records and statistics). */
	record?: (record: MenuCallRecord) => void;
	log: (msg: string) => void;
}): Promise<VoiceMenu> {
	const prompts = { dir: join(o.dir, 'prompts') };
	const menuFor = menuChooser(o.menus, o.log);
	/** Speaks a menu's prompts ahead of its first caller (cached: only changed texts are made). */
	const prepare = async (menu: ConfiguredMenu) => {
		for (const text of menu.prompts) await synthesize(text, prompts);
	};
	for (const hotline of o.ivr.hotlines) await prepare(menuFor(hotline));
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
		// A saved menu's prompts are spoken at once, so its first caller does not wait for them; so is a
		// notice (alone: the commonest case).
		const unfollow = o.menus?.onChange((id) => {
			const notice = id.startsWith('notice:') ? o.menus?.notice?.(id) : undefined;
			if (notice) {
				synthesize(spokenNotices([notice.text]), prompts).catch((err: Error) =>
					o.log(`voice menu: notice not spoken: ${err.message}`)
				);
			}
			if (!id.startsWith('voiceMenu:')) return;
			for (const hotline of o.ivr.hotlines) {
				prepare(menuFor(hotline)).catch((err: Error) =>
					o.log(`voice menu: prompts not made: ${err.message}`)
				);
			}
		});
		if (unfollow) stops.push(unfollow);
		/** Each call while it lasts: its menu (the version it started with), what it heard, where it went. */
		const calls = new Map<string, MenuCall>();
		const engine = await startIvrEngine({
			sip,
			ng: rtp.ng,
			dtmf,
			menu: ({ callId, caller, called }) => {
				const number = parseSipUri(caller)?.user ?? caller;
				const notices = o.noticesFor?.(number) ?? [];
				const base = menuFor(called);
				const menu =
					notices.length > 0 ? { ...base, intro: spokenNotices(notices.map((n) => n.text)) } : base;
				calls.set(callId, {
					menu,
					notices: notices.map((n) => n.title),
					caller: number,
					hotline: called,
					arrivedAt: Date.now(),
					heard: false,
					callback: false,
					bridged: false
				});
				return menu;
			},
			promptFile: (text) => synthesize(text, prompts),
			host: o.sipHost,
			// The same hotline again, now from the menu: Kamailio queues it to the agents.
			route: (h) => `sip:${h.called}@${o.sipHost}:${o.sipPort}`,
			log: (msg) => o.log(`voice menu: ${msg}`)
		});
		stops.push(() => engine.close());
		engine.on('handoff-failed', (d) =>
			o.log(`voice menu: ${d.callId} not taken by the distribution (${d.status}); back to the menu`)
		);
		engine.on('menu', (m) => {
			const call = calls.get(m.callId);
			if (call && SERVED.includes(m.phase)) call.heard = true;
		});
		engine.on('handoff', (h) => {
			const call = calls.get(h.callId);
			if (call) call.handoff = h;
		});
		engine.on('bridged', (b) => {
			const call = calls.get(b.callId);
			if (call) call.bridged = true;
		});
		engine.on('callback', (c) => {
			const call = calls.get(c.callId);
			if (!call) return;
			call.callback = true;
			o.callbackRequest?.({
				callId: c.callId,
				caller: call.caller,
				hotline: call.hotline,
				path: c.path.map((id) => call.menu.titles[id] ?? id),
				keys: c.keys,
				at: c.at
			});
		});
		engine.on('ended', (e) => {
			const call = calls.get(e.callId);
			calls.delete(e.callId);
			if (!call || !o.record) return;
			o.record({
				callId: e.callId,
				caller: call.caller,
				hotline: call.hotline,
				arrivedAt: call.arrivedAt,
				endedAt: Date.now(),
				outcome: call.bridged
					? 'agent'
					: call.handoff
						? 'queued'
						: call.callback
							? 'callback'
							: call.heard
								? 'selfService'
								: 'abandoned',
				path: e.path.map((id) => ({ id, title: call.menu.titles[id] ?? id })),
				keys: e.keys,
				notices: call.notices,
				endedBy: e.by
			});
		});
		o.log(
			`voice menu on ${o.ivr.hotlines.join(', ')}: SIP ${o.sipHost}:${o.ivr.sipPort}, rtpengine ${rtp.pid}`
		);
		return {
			summary(menuCallId) {
				const call = calls.get(menuCallId);
				const h = call?.handoff;
				if (!call || !h) return undefined;
				return {
					...(call.notices.length > 0 ? { notices: call.notices } : {}),
					queue: h.queue,
					path: h.path.map((id) => ({ id, title: call.menu.titles[id] ?? id })),
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
