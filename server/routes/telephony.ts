/**
 * Telephony for the browser (F30 groundwork): an agent's SIP identity for this sign-in, and the internal
 * endpoints Kamailio asks for a SIP user's digest secret (agent or desk phone) and an agent's right to call
 * out — loopback only, with the key generated at each start.
 */
import { Hono, type Context } from 'hono';
import { timingSafeEqual } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { Readable } from 'node:stream';
import * as v from 'valibot';
import { Ok } from '#shared/wire/errors';
import {
	Agent,
	CallList,
	CallStats,
	OWN_AGENT_STATES,
	PhoneCredentials,
	Wallboard
} from '#shared/wire/telephony';
import { AppError } from '../errors';
import { requireAnyPermission, requirePermission } from '../middleware/auth';
import { clientAddress } from '../middleware/client-address';
import { doc, send } from '../openapi';
import { validJson, validParam, validQuery } from '../validate';
import { DeskPhoneTaken, type Acd } from '../telephony/acd';
import { JANUS_PATH } from '../telephony/janus-proxy';
import type { AppDeps, AppEnv } from '../context';
import { iceServers } from '../telephony/ice';

const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);
const sameKey = (a: string, b: string) =>
	a.length === b.length &&
	timingSafeEqual(new Uint8Array(Buffer.from(a)), new Uint8Array(Buffer.from(b)));

const StateInput = v.object({
	state: v.picklist(OWN_AGENT_STATES, 'invalid'),
	reason: v.optional(v.pipe(v.string(), v.trim(), v.maxLength(40, 'too_long')), ''),
	/** F1 本座位旁话机号: the extension to ring instead of the browser ('' = the browser). */
	deskPhone: v.optional(v.pipe(v.string(), v.trim(), v.regex(/^(\d{2,20})?$/, 'invalid')), '')
});
const Day = v.pipe(v.string(), v.isoDate('invalid'));
const StatsQuery = v.object({ from: Day, to: Day });
const CallId = v.pipe(v.string(), v.minLength(1), v.maxLength(200));
const CallEndedInput = v.object({ callId: CallId });
const RecordingParam = v.object({ callId: CallId });

/** Today's figures of the wallboard (F31), from the call records. */
function today(records: ReturnType<Acd['records']>, serviceLevelMs: number) {
	const start = new Date();
	start.setHours(0, 0, 0, 0);
	const mine = records.filter((r) => r.arrivedAt >= start.getTime());
	const answered = mine.filter((r) => r.answeredAt !== null);
	const inTime = answered.filter((r) => r.answeredAt! - r.arrivedAt <= serviceLevelMs);
	return {
		offered: mine.length,
		answered: answered.length,
		abandoned: mine.filter((r) => r.outcome === 'abandoned').length,
		serviceLevel: answered.length ? inTime.length / answered.length : null
	};
}
const SERVICE_LEVEL_MS = 20_000;

function runningAcd(deps: AppDeps): Acd {
	const acd = deps.phone()?.acd;
	if (!acd) throw new AppError('conflict', 409, 'Telephony is not running');
	return acd;
}

export const telephonyRoutes = (deps: AppDeps) =>
	new Hono<AppEnv>()
		// F31: the agent's own state.
		.post(
			'/state',
			doc("Sets the agent's own state (ready, not ready, signed out)", Agent),
			requirePermission('call.take'),
			validJson(StateInput),
			async (c) => {
				const user = c.get('user')!;
				if (!user.agentId) {
					throw new AppError('conflict', 409, 'An agent ID (工号) is needed to take calls');
				}
				const { state, reason, deskPhone } = c.req.valid('json');
				// Only a desk phone the administrator issued rings for an agent (never another agent's number).
				if (deskPhone && !(await deps.deskPhones.ha1Of(deskPhone))) {
					throw new AppError('validation', 400, `No desk phone ${deskPhone} is issued`, {
						field: 'deskPhone',
						issues: { deskPhone: 'desk_phone_unknown' }
					});
				}
				try {
					const agent = runningAcd(deps).setAgentState(
						{ agentId: user.agentId, userId: user._id, name: user.name },
						state,
						reason,
						deskPhone
					);
					// What the desk phone may dial is what this sign-in may (#17).
					if (agent.deskPhone) {
						deps.phone()?.credentials.bindDeskPhone(user.agentId, c.get('sessionToken')!);
					}
					return send(c, Agent, agent);
				} catch (err) {
					if (err instanceof DeskPhoneTaken) throw new AppError('conflict', 409, err.message);
					throw err;
				}
			}
		)
		// F30: the agent's softphone says a call ended (whatever happened to Kamailio's BYE).
		.post(
			'/call-ended',
			doc("Tells the server that the agent's softphone call ended", Ok),
			requirePermission('call.take'),
			validJson(CallEndedInput),
			(c) => {
				const user = c.get('user')!;
				if (user.agentId) runningAcd(deps).agentHungUp(user.agentId, c.req.valid('json').callId);
				return send(c, Ok, { ok: true });
			}
		)
		// F31: the team leader's live wallboard.
		.get('/board', doc('The live wallboard', Wallboard), requirePermission('supervise'), (c) => {
			const acd = runningAcd(deps);
			const now = Date.now();
			const menu = deps.phone()?.ivr;
			const queue = acd.queue().map((q) => {
				const ivr = q.ivr ? menu?.(q.ivr) : undefined;
				return {
					callId: q.callId,
					caller: q.caller,
					waitingMs: now - q.queuedAt,
					...(ivr ? { ivr } : {})
				};
			});
			return send(c, Wallboard, {
				agents: acd.agents(),
				queue,
				longestWaitMs: queue.reduce((m, q) => Math.max(m, q.waitingMs), 0),
				today: today(acd.records(), SERVICE_LEVEL_MS),
				serviceLevelSeconds: SERVICE_LEVEL_MS / 1000
			});
		})
		.get(
			'/calls',
			doc("Today's call records, live", CallList),
			requirePermission('supervise'),
			(c) => send(c, CallList, { calls: runningAcd(deps).records() })
		)
		// F25: call statistics of a period (center days, UTC+8), from the stored call records.
		.get(
			'/stats',
			doc('Call statistics of a period (center days); team leaders may read them too', CallStats),
			// F25: the statistics are for `stats.view`, and team leaders (`supervise`) read them too.
			requireAnyPermission('stats.view', 'supervise'),
			validQuery(StatsQuery),
			async (c) => {
				const { from, to } = c.req.valid('query');
				return send(c, CallStats, await deps.callRecords.stats(from, to, SERVICE_LEVEL_MS / 1000));
			}
		)
		// F32: a call's recording, for users allowed to listen (the ticket keeps the call's id).
		.get(
			'/recordings/:callId',
			doc("A call's recording", null, { description: 'audio/wav' }),
			requirePermission('recording.listen'),
			validParam(RecordingParam),
			(c) => {
				const file = deps.recordings.find(c.req.valid('param').callId);
				if (!file) throw new AppError('not_found', 404, 'No recording of this call');
				const size = statSync(file).size;
				return new Response(Readable.toWeb(createReadStream(file)) as ReadableStream, {
					headers: {
						'content-type': 'audio/wav',
						'content-length': String(size),
						'cache-control': 'private, max-age=3600'
					}
				});
			}
		)
		.post(
			'/credentials',
			doc("The softphone's SIP identity for this sign-in", PhoneCredentials),
			requirePermission('call.take'),
			(c) => {
				const user = c.get('user')!;
				const phone = deps.phone();
				if (!phone) throw new AppError('conflict', 409, 'Telephony is not running');
				if (!user.agentId) {
					throw new AppError('conflict', 409, 'An agent ID (工号) is needed to take calls');
				}
				const password = phone.credentials.issue(user.agentId, c.get('sessionToken')!);
				const { domain, host, port } = deps.settings.sip;
				return send(c, PhoneCredentials, {
					username: user.agentId,
					password,
					uri: `sip:${user.agentId}@${domain}`,
					registrar: `sip:${domain}`,
					// Where Janus sends this agent's REGISTER and calls (Kamailio, seen from Janus).
					proxy: `sip:${host}:${port}`,
					janus: JANUS_PATH,
					iceServers: iceServers(deps.settings.ice, user.agentId, deps.settings.sessionTtlMs)
				});
			}
		);

/** Kamailio's questions; answered as plain text (http_client_query reads the body). */
export const internalRoutes = (deps: AppDeps) => {
	/** Only Kamailio: from loopback, with the key of this start. */
	const kamailio = (c: Context<AppEnv>) => {
		const phone = deps.phone();
		// #16 shared by several app servers, Kamailio may be elsewhere (and reach this one through another):
		// its key, shared by all of them, is the proof.
		const near = deps.settings.telephony === 'shared' || LOOPBACK.has(clientAddress(c));
		return phone && near && sameKey(c.req.query('key') ?? '', phone.key) ? phone : null;
	};
	return (
		new Hono<AppEnv>()
			// `agent:<ha1>` or `phone:<ha1>`, read by Kamailio's route[SECRET].
			.get('/sip/secret', async (c) => {
				const phone = kamailio(c);
				if (!phone) return c.text('', 403);
				const secret = await phone.credentials.secretOf(c.req.query('user') ?? '');
				return secret ? c.text(`${secret.kind}:${secret.ha1}`, 200) : c.text('', 404);
			})
			// `user`: may this agent's softphone call out; `phone`: which signed-in agent works with this desk
			// phone and may call out (answered with the agent ID).
			.get('/sip/outbound', async (c) => {
				const phone = kamailio(c);
				if (!phone) return c.text('', 403);
				const deskPhone = c.req.query('phone');
				if (deskPhone !== undefined) {
					const agent = (phone.acd?.agents() ?? []).find(
						(a) => a.deskPhone === deskPhone && a.state !== 'signedOut'
					);
					return agent && (await phone.credentials.mayCallOut(agent.agentId, 'desk'))
						? c.text(agent.agentId, 200)
						: c.text('', 403);
				}
				return (await phone.credentials.mayCallOut(c.req.query('user') ?? ''))
					? c.text('yes', 200)
					: c.text('', 403);
			})
	);
};
