/**
 * The phone transport on janus.js: Janus's SIP plugin over the app's `/janus` WebSocket. The only module that
 * imports janus.js; everything else uses `PhoneTransport`. What it sends is exactly what the `/janus` proxy's
 * closed list admits (server/telephony/janus-proxy.ts, SECURITY.md): the Janus requests janus.js makes and the
 * SIP plugin's register, call, accept, decline, hangup, hold, unhold, dtmf_info, transfer and update, each with
 * the fields used here and no others. It also owns the browser's side of the media: the remote audio, the
 * answer to a changed offer, the peer connection's statistics. #17 each line is a plugin handle of its own:
 * `main` registers the agent's identity, `second` is attached once that is registered, as its helper
 * (`register` with `type: helper` and the `master_id` Janus gave the main line).
 */
import type { default as JanusClass, JanusJS } from 'janus-gateway';
import {
	RequestRefused,
	type AudioStats,
	type Line,
	type PhoneEvent,
	type PhoneTransport
} from './types';

const AUDIO_ONLY: JanusJS.TrackOption[] = [{ type: 'audio', capture: true, recv: true }];
const DTMF_DURATION_MS = 160;

/**
 * janus.js and webrtc-adapter (~28 KB gzip) are loaded when the phone first connects, not with the page
 * (#15: the agent desk takes input before them; a desk-phone agent never loads them).
 */
let initialised: Promise<typeof JanusClass> | null = null;
function initJanus(): Promise<typeof JanusClass> {
	initialised ??= Promise.all([import('janus-gateway'), import('webrtc-adapter')]).then(
		([{ default: Janus }, { default: adapter }]) =>
			new Promise((resolve) =>
				Janus.init({
					debug: false,
					dependencies: Janus.useDefaultDependencies({ adapter }),
					callback: () => resolve(Janus)
				})
			)
	);
	// A failed load (the network dropped) is tried again at the next connection.
	initialised.catch(() => (initialised = null));
	return initialised;
}

export function createJanusSession(): PhoneTransport {
	let emit: (event: PhoneEvent) => void = () => {};
	let janus: JanusJS.Janus | null = null;
	/** Each line's plugin handle, its ringing call's SDP (none on a late offer) and its remote audio. */
	const lines: Record<
		Line,
		{
			handle: JanusJS.PluginHandle | null;
			pendingOffer: JanusJS.JSEP | undefined;
			audio: HTMLAudioElement | null;
		}
	> = {
		main: { handle: null, pendingOffer: undefined, audio: null },
		second: { handle: null, pendingOffer: undefined, audio: null }
	};
	/** The SIP identity the main line registered. */
	let identity = '';
	const tell = (line: Line, event: PhoneEvent) =>
		emit(line === 'main' ? event : { ...event, line });

	/** Sends a SIP plugin request; the promise settles with the server's acknowledgement or refusal. */
	function send(
		line: Line,
		message: JanusJS.PluginMessage['message'],
		jsep?: JanusJS.JSEP
	): Promise<void> {
		const to = lines[line].handle;
		if (!to) return Promise.resolve();
		return new Promise((resolve, reject) =>
			to.send({
				message,
				...(jsep ? { jsep } : {}),
				success: () => resolve(),
				error: (reason: string) => reject(new RequestRefused(String(reason)))
			})
		);
	}

	function onMessage(line: Line, msg: JanusJS.Message, jsep?: JanusJS.JSEP) {
		const state = lines[line];
		if (msg.error) {
			tell(line, { type: 'error', message: String(msg.error) });
			return;
		}
		const result = (msg.result ?? {}) as Record<string, unknown>;
		switch (String(result.event ?? '')) {
			case 'registered':
				tell(line, { type: 'registered' });
				if (line === 'main' && typeof result.master_id === 'number' && identity) {
					void openSecondLine(result.master_id, identity);
				}
				break;
			case 'registration_failed':
				tell(line, {
					type: 'registrationFailed',
					reason: `${String(result.code)} ${String(result.reason)}`
				});
				break;
			case 'incomingcall':
				state.pendingOffer = jsep;
				tell(line, {
					type: 'incoming',
					from: String(result.username ?? ''),
					callId: String(result.call_id ?? msg.call_id ?? ''),
					...(typeof result.replaces === 'string' ? { replaces: result.replaces } : {})
				});
				break;
			case 'calling':
				tell(line, { type: 'calling', callId: String(result.call_id ?? msg.call_id ?? '') });
				break;
			case 'accepted':
				if (jsep) state.handle?.handleRemoteJsep({ jsep });
				tell(line, { type: 'accepted' });
				break;
			case 'updatingcall':
				// The other side changed the media (e.g. its own hold): answer the new offer as it is.
				if (jsep) {
					state.handle?.createAnswer({
						jsep,
						tracks: AUDIO_ONLY,
						success: (answer) => void send(line, { request: 'update' }, answer).catch(() => {})
					});
				}
				break;
			case 'holding':
				tell(line, { type: 'held' });
				break;
			case 'resuming':
				tell(line, { type: 'resumed' });
				break;
			case 'dtmfsent':
				tell(line, { type: 'dtmfSent' });
				break;
			case 'notify': {
				// The transferee's word on our REFER: a sipfrag with its new call's status line.
				const status = /^SIP\/2\.0 (\d{3})/.exec(String(result.content ?? ''))?.[1];
				if (result.notify === 'refer' && status) {
					tell(line, { type: 'transferProgress', status: Number(status) });
				}
				break;
			}
			case 'hangup': {
				const code = Number(result.code);
				tell(line, {
					type: 'hangup',
					code: result.code === undefined || Number.isNaN(code) ? null : code,
					reason: String(result.reason ?? '')
				});
				// Closes the peer connection without a request of its own (the call is over already).
				state.handle?.hangup(false);
				break;
			}
			default:
				if (jsep) state.handle?.handleRemoteJsep({ jsep });
		}
	}

	function onRemoteTrack(line: Line, track: MediaStreamTrack, on: boolean) {
		if (track.kind !== 'audio') return;
		const state = lines[line];
		if (!on) {
			if (state.audio) state.audio.srcObject = null;
			return;
		}
		state.audio ??= new Audio();
		state.audio.autoplay = true;
		state.audio.srcObject = new MediaStream([track]);
		void state.audio.play().catch(() => {});
	}

	function mediaClosed(line: Line) {
		const state = lines[line];
		state.pendingOffer = undefined;
		if (state.audio) state.audio.srcObject = null;
		tell(line, { type: 'mediaClosed' });
	}

	function attach(session: JanusJS.Janus, line: Line): Promise<JanusJS.PluginHandle> {
		return new Promise((resolve, reject) =>
			session.attach({
				plugin: 'janus.plugin.sip',
				success: resolve,
				error: (e) => reject(new Error(e)),
				onmessage: (msg, jsep) => onMessage(line, msg, jsep),
				onremotetrack: (track, _mid, on) => onRemoteTrack(line, track, on),
				oncleanup: () => mediaClosed(line)
			})
		);
	}

	/** The second line: a helper of the registered main line (no REGISTER of its own goes out). */
	async function openSecondLine(masterId: number, username: string) {
		const session = janus;
		if (!session || lines.second.handle) return;
		try {
			const handle = await attach(session, 'second');
			if (janus !== session) return;
			lines.second.handle = handle;
			// Janus 1.1 asks for the username of a helper too (it uses the master's account).
			await send('second', { request: 'register', type: 'helper', username, master_id: masterId });
		} catch (err) {
			// Without it the agent still has the main line; only consultations are unavailable.
			tell('second', { type: 'error', message: err instanceof Error ? err.message : String(err) });
		}
	}

	/** Forgets the connection; janus.js sends `destroy` only while it is still connected. */
	function close() {
		const gone = janus;
		janus = null;
		for (const state of Object.values(lines)) {
			state.handle = null;
			state.pendingOffer = undefined;
			if (state.audio) state.audio.srcObject = null;
		}
		gone?.destroy({ cleanupHandles: true });
	}

	return {
		listen(listener) {
			emit = listener;
		},

		async connect({ path, iceServers }) {
			const Janus = await initJanus();
			const server = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}${path}`;
			const session = await new Promise<JanusJS.Janus>((resolve, reject) => {
				const created: JanusJS.Janus = new Janus({
					server,
					iceServers,
					success: () => resolve(created),
					error: (e: unknown) => {
						reject(new Error(String(e)));
						// Only the connection in use is reported; an old one's last words are not news.
						if (janus === created || janus === null) emit({ type: 'lost', reason: String(e) });
					}
				});
			});
			janus = session;
			lines.main.handle = await attach(session, 'main');
		},

		register({ uri, secret, proxy, displayName }) {
			identity = uri;
			return send('main', {
				request: 'register',
				username: uri,
				secret,
				proxy,
				// Calls go through Kamailio too, whatever the domain in the address.
				outbound_proxy: proxy,
				display_name: displayName
			});
		},

		call(uri, line = 'main') {
			const to = lines[line].handle;
			if (!to) return Promise.reject(new RequestRefused('not connected'));
			return new Promise((resolve, reject) =>
				to.createOffer({
					tracks: AUDIO_ONLY,
					success: (jsep) =>
						void send(line, { request: 'call', uri }, jsep).then(resolve, (err: unknown) => {
							// Refused before it rang: the offer's peer connection goes too.
							reject(err instanceof Error ? err : new RequestRefused(String(err)));
							to.hangup();
						}),
					error: (e) => reject(e instanceof Error ? e : new Error(String(e)))
				})
			);
		},

		answer(line = 'main') {
			const to = lines[line].handle;
			if (!to) return Promise.resolve();
			const jsep = lines[line].pendingOffer;
			return new Promise((resolve, reject) => {
				const accept = (answer: JanusJS.JSEP) => {
					void send(line, { request: 'accept' }, answer).catch(() => {});
					resolve();
				};
				const failed = (e: unknown) => reject(e instanceof Error ? e : new Error(String(e)));
				// A caller without SDP in the INVITE (late offer) gets ours in the 200.
				if (jsep) to.createAnswer({ jsep, tracks: AUDIO_ONLY, success: accept, error: failed });
				else to.createOffer({ tracks: AUDIO_ONLY, success: accept, error: failed });
			});
		},

		decline(code, line = 'main') {
			void send(line, { request: 'decline', code }).catch(() => {});
		},

		hangup(line = 'main') {
			void send(line, { request: 'hangup' }).catch(() => {});
		},

		hold(line = 'main') {
			void send(line, { request: 'hold', direction: 'sendonly' }).catch(() => {});
		},

		resume(line = 'main') {
			void send(line, { request: 'unhold' }).catch(() => {});
		},

		setMuted(muted, line = 'main') {
			const handle = lines[line].handle;
			if (!handle) return false;
			if (muted && !handle.isAudioMuted()) handle.muteAudio();
			if (!muted && handle.isAudioMuted()) handle.unmuteAudio();
			return handle.isAudioMuted();
		},

		dtmf(digit, line = 'main') {
			void send(line, { request: 'dtmf_info', digit, duration: DTMF_DURATION_MS }).catch(() => {});
		},

		transfer(uri, line = 'main', replace) {
			return send(line, { request: 'transfer', uri, ...(replace ? { replace } : {}) });
		},

		async stats(line = 'main') {
			const pc = lines[line].handle?.webrtcStuff?.pc;
			if (!pc) return null;
			const report = await pc.getStats();
			const s: AudioStats = {
				packetsSent: 0,
				packetsReceived: 0,
				bytesSent: 0,
				bytesReceived: 0,
				jitter: 0,
				packetsLost: 0
			};
			report.forEach((r: Record<string, unknown>) => {
				if (r.kind !== 'audio') return;
				if (r.type === 'outbound-rtp') {
					s.packetsSent += Number(r.packetsSent ?? 0);
					s.bytesSent += Number(r.bytesSent ?? 0);
				} else if (r.type === 'inbound-rtp') {
					s.packetsReceived += Number(r.packetsReceived ?? 0);
					s.bytesReceived += Number(r.bytesReceived ?? 0);
					s.jitter = Number(r.jitter ?? 0);
					s.packetsLost += Number(r.packetsLost ?? 0);
				}
			});
			return s;
		},

		close
	};
}
