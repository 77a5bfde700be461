/**
 * The phone transport on janus.js: Janus's SIP plugin over the app's `/janus` WebSocket. The only module that
 * imports janus.js; everything else uses `PhoneTransport`. What it sends is exactly what the `/janus` proxy's
 * closed list admits (server/telephony/janus-proxy.ts, SECURITY.md): the Janus requests janus.js makes and the
 * SIP plugin's register, call, accept, decline, hangup, hold, unhold, dtmf_info, transfer and update, each with
 * the fields used here and no others. It also owns the browser's side of the media: the remote audio, the
 * answer to a changed offer, the peer connection's statistics.
 */
import type { default as JanusClass, JanusJS } from 'janus-gateway';
import { RequestRefused, type AudioStats, type PhoneEvent, type PhoneTransport } from './types';

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
	let handle: JanusJS.PluginHandle | null = null;
	/** The caller's SDP of the ringing call (none when the INVITE came without one: late offer). */
	let pendingOffer: JanusJS.JSEP | undefined;
	let audio: HTMLAudioElement | null = null;

	/** Sends a SIP plugin request; the promise settles with the server's acknowledgement or refusal. */
	function send(message: JanusJS.PluginMessage['message'], jsep?: JanusJS.JSEP): Promise<void> {
		const to = handle;
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

	function onMessage(msg: JanusJS.Message, jsep?: JanusJS.JSEP) {
		if (msg.error) {
			emit({ type: 'error', message: String(msg.error) });
			return;
		}
		const result = (msg.result ?? {}) as Record<string, unknown>;
		switch (String(result.event ?? '')) {
			case 'registered':
				emit({ type: 'registered' });
				break;
			case 'registration_failed':
				emit({
					type: 'registrationFailed',
					reason: `${String(result.code)} ${String(result.reason)}`
				});
				break;
			case 'incomingcall':
				pendingOffer = jsep;
				emit({
					type: 'incoming',
					from: String(result.username ?? ''),
					callId: String(result.call_id ?? msg.call_id ?? '')
				});
				break;
			case 'calling':
				emit({ type: 'calling', callId: String(result.call_id ?? msg.call_id ?? '') });
				break;
			case 'accepted':
				if (jsep) handle?.handleRemoteJsep({ jsep });
				emit({ type: 'accepted' });
				break;
			case 'updatingcall':
				// The other side changed the media (e.g. its own hold): answer the new offer as it is.
				if (jsep) {
					handle?.createAnswer({
						jsep,
						tracks: AUDIO_ONLY,
						success: (answer) => void send({ request: 'update' }, answer).catch(() => {})
					});
				}
				break;
			case 'holding':
				emit({ type: 'held' });
				break;
			case 'resuming':
				emit({ type: 'resumed' });
				break;
			case 'dtmfsent':
				emit({ type: 'dtmfSent' });
				break;
			case 'hangup': {
				const code = Number(result.code);
				emit({
					type: 'hangup',
					code: result.code === undefined || Number.isNaN(code) ? null : code,
					reason: String(result.reason ?? '')
				});
				// Closes the peer connection without a request of its own (the call is over already).
				handle?.hangup(false);
				break;
			}
			default:
				if (jsep) handle?.handleRemoteJsep({ jsep });
		}
	}

	function onRemoteTrack(track: MediaStreamTrack, on: boolean) {
		if (track.kind !== 'audio') return;
		if (!on) {
			if (audio) audio.srcObject = null;
			return;
		}
		audio ??= new Audio();
		audio.autoplay = true;
		audio.srcObject = new MediaStream([track]);
		void audio.play().catch(() => {});
	}

	function mediaClosed() {
		pendingOffer = undefined;
		if (audio) audio.srcObject = null;
		emit({ type: 'mediaClosed' });
	}

	/** Forgets the connection; janus.js sends `destroy` only while it is still connected. */
	function close() {
		const gone = janus;
		janus = null;
		handle = null;
		gone?.destroy({ cleanupHandles: true });
		pendingOffer = undefined;
		if (audio) audio.srcObject = null;
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
			handle = await new Promise<JanusJS.PluginHandle>((resolve, reject) =>
				session.attach({
					plugin: 'janus.plugin.sip',
					success: resolve,
					error: (e) => reject(new Error(e)),
					onmessage: (msg, jsep) => onMessage(msg, jsep),
					onremotetrack: (track, _mid, on) => onRemoteTrack(track, on),
					oncleanup: () => mediaClosed()
				})
			);
		},

		register({ uri, secret, proxy, displayName }) {
			return send({
				request: 'register',
				username: uri,
				secret,
				proxy,
				// Calls go through Kamailio too, whatever the domain in the address.
				outbound_proxy: proxy,
				display_name: displayName
			});
		},

		call(uri) {
			const to = handle;
			if (!to) return Promise.reject(new RequestRefused('not connected'));
			return new Promise((resolve, reject) =>
				to.createOffer({
					tracks: AUDIO_ONLY,
					success: (jsep) =>
						void send({ request: 'call', uri }, jsep).then(resolve, (err: unknown) => {
							// Refused before it rang: the offer's peer connection goes too.
							reject(err instanceof Error ? err : new RequestRefused(String(err)));
							to.hangup();
						}),
					error: (e) => reject(e instanceof Error ? e : new Error(String(e)))
				})
			);
		},

		answer() {
			const to = handle;
			if (!to) return Promise.resolve();
			const jsep = pendingOffer;
			return new Promise((resolve, reject) => {
				const accept = (answer: JanusJS.JSEP) => {
					void send({ request: 'accept' }, answer).catch(() => {});
					resolve();
				};
				const failed = (e: unknown) => reject(e instanceof Error ? e : new Error(String(e)));
				// A caller without SDP in the INVITE (late offer) gets ours in the 200.
				if (jsep) to.createAnswer({ jsep, tracks: AUDIO_ONLY, success: accept, error: failed });
				else to.createOffer({ tracks: AUDIO_ONLY, success: accept, error: failed });
			});
		},

		decline(code) {
			void send({ request: 'decline', code }).catch(() => {});
		},

		hangup() {
			void send({ request: 'hangup' }).catch(() => {});
		},

		hold() {
			void send({ request: 'hold', direction: 'sendonly' }).catch(() => {});
		},

		resume() {
			void send({ request: 'unhold' }).catch(() => {});
		},

		setMuted(muted) {
			if (!handle) return false;
			if (muted && !handle.isAudioMuted()) handle.muteAudio();
			if (!muted && handle.isAudioMuted()) handle.unmuteAudio();
			return handle.isAudioMuted();
		},

		dtmf(digit) {
			void send({ request: 'dtmf_info', digit, duration: DTMF_DURATION_MS }).catch(() => {});
		},

		transfer(uri) {
			return send({ request: 'transfer', uri });
		},

		async stats() {
			const pc = handle?.webrtcStuff?.pc;
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
