/**
 * The only reader of `process.env`. Parsed once at start-up (from index.ts) into a typed Settings that the
 * rest of the server receives through its dependencies. Every variable has a default that works on one
 * machine with nothing else installed.
 */
import * as v from 'valibot';
import { networkInterfaces } from 'node:os';
import { resolve } from 'node:path';
import type { IceSettings } from './telephony/ice';

const Int = (fallback: number, min: number, max: number) =>
	v.pipe(
		v.optional(v.string(), String(fallback)),
		v.transform(Number),
		v.integer(),
		v.minValue(min),
		v.maxValue(max)
	);

const EnvSchema = v.object({
	PORT: Int(3000, 0, 65535),
	HOST: v.optional(v.string(), '0.0.0.0'),
	DATA_DIR: v.optional(v.string(), './data'),
	COUCHDB_URL: v.optional(v.pipe(v.string(), v.url())),
	DB_PREFIX: v.optional(v.pipe(v.string(), v.regex(/^[a-z][a-z0-9_]*$/)), 'cc_'),
	ADMIN_PASSWORD: v.optional(v.pipe(v.string(), v.minLength(8))),
	SESSION_TTL_HOURS: Int(12, 1, 24 * 30),
	SESSION_IDLE_MINUTES: Int(60, 1, 24 * 60 * 30),
	REQUEST_TIMEOUT_SECONDS: Int(30, 1, 600),
	TRUST_PROXY: v.optional(v.pipe(v.string(), v.regex(/^[\d.:a-f, ]*$/i)), ''),
	SYNC_WINDOW_DAYS: Int(90, 1, 3650),
	SYNC_FANOUT: v.optional(v.picklist(['on', 'off']), 'on'),
	SYNC_RECENT_TICKETS: Int(1_000, 1, 1_000_000),
	LEASE_SECONDS: Int(10, 2, 300),
	LOGIN_MAX_FAILURES: Int(10, 1, 1000),
	LOGIN_WINDOW_MINUTES: Int(15, 1, 24 * 60),
	COOKIE_SECURE: v.optional(v.picklist(['auto', 'true', 'false']), 'auto'),
	TELEPHONY: v.optional(v.picklist(['auto', 'on', 'off', 'shared']), 'auto'),
	// #16 several app servers sharing one Kamailio and Janus (`npm run telephony`).
	TELEPHONY_KEY: v.optional(v.pipe(v.string(), v.regex(/^[A-Za-z0-9._~+/=-]{24,}$/))),
	TELEPHONY_HOST: v.optional(v.pipe(v.string(), v.ip()), '127.0.0.1'),
	INTERNAL_URL: v.optional(v.pipe(v.string(), v.url(), v.regex(/^https?:\/\//))),
	APP_URL: v.optional(v.pipe(v.string(), v.url(), v.regex(/^https?:\/\//))),
	SIP_HOST: v.optional(v.pipe(v.string(), v.ip()), '127.0.0.1'),
	SIP_PORT: Int(5060, 1, 65535),
	SIP_DOMAIN: v.optional(v.pipe(v.string(), v.regex(/^[a-z0-9.-]+$/i)), 'callcenter.local'),
	SIP_TRUNKS: v.optional(v.pipe(v.string(), v.regex(/^[\d.:a-f, [\]]*$/i)), '127.0.0.1'),
	JANUS_SIP_IP: v.optional(v.pipe(v.string(), v.ip())),
	HOTLINES: v.optional(v.pipe(v.string(), v.regex(/^[\d, ]+$/)), '96000'),
	SIP_OUTBOUND: v.optional(v.pipe(v.string(), v.regex(/^([a-z0-9.-]+(:\d{1,5})?)?$/i)), ''),
	JANUS_HTTP_PORT: Int(8088, 1, 65535),
	JANUS_WS_PORT: Int(8188, 1, 65535),
	JANUS_ADMIN_PORT: Int(7088, 1, 65535),
	JANUS_PUBLIC_IP: v.optional(v.pipe(v.string(), v.ip())),
	TURN_URLS: v.optional(
		v.pipe(v.string(), v.regex(/^(((stun|turns?):[^\s,]+)(\s*,\s*(stun|turns?):[^\s,]+)*)?$/)),
		''
	),
	TURN_SECRET: v.optional(v.string(), ''),
	TURN_USERNAME: v.optional(v.string(), ''),
	TURN_PASSWORD: v.optional(v.string(), ''),
	EVAPI_PORT: Int(8448, 1, 65535),
	// #18 F23 the voice menu: hotlines whose calls enter it first, its SIP port, rtpengine's control ports
	// and media range.
	IVR_HOTLINES: v.optional(v.pipe(v.string(), v.regex(/^[\d, ]*$/)), ''),
	IVR_SIP_PORT: Int(5070, 1, 65535),
	IVR_NG_PORT: Int(2223, 1, 65535),
	IVR_DTMF_PORT: Int(2224, 1, 65535),
	IVR_RTP_PORTS: v.optional(v.pipe(v.string(), v.regex(/^\d{1,5}-\d{1,5}$/)), '30000-30999'),
	ACD_OFFER_SECONDS: Int(15, 1, 120),
	ACD_MAX_WAIT_SECONDS: Int(120, 1, 3600),
	ACD_WRAPUP_SECONDS: Int(10, 0, 600),
	AGENT_GONE_SECONDS: Int(15, 1, 600),
	DESK_PHONES: v.optional(v.pipe(v.string(), v.regex(/^[\d.:a-f, ]*$/i)), ''),
	RECORD_CALLS: v.optional(v.picklist(['on', 'off']), 'off'),
	WEB_DIR: v.optional(v.string()),
	// F29 branch offices; their secrets are checked by parseBranches/parseLink, which never echo them.
	BRANCHES: v.optional(v.string(), ''),
	CENTER_URL: v.optional(v.pipe(v.string(), v.url(), v.regex(/^https?:\/\//))),
	BRANCH_NAME: v.optional(v.string()),
	BRANCH_KEY: v.optional(v.string())
});

/** A branch office's name: also its `Bearer <name>:<key>` user part and part of checkpoint ids. */
const BRANCH_NAME_PATTERN = /^[a-z][a-z0-9-]{0,31}$/;
/** Shared branch keys: long enough not to be guessed, and free of the separators of BRANCHES. */
const BRANCH_KEY_PATTERN = /^[A-Za-z0-9._~-]{16,}$/;
const BranchEntry = v.object({
	name: v.pipe(
		v.string(),
		v.regex(BRANCH_NAME_PATTERN, 'a name is lower-case letters, digits and -, up to 32')
	),
	key: v.pipe(
		v.string(),
		v.regex(BRANCH_KEY_PATTERN, 'a key is at least 16 of A-Z a-z 0-9 . _ ~ -')
	),
	departmentIds: v.pipe(
		v.array(v.pipe(v.string(), v.regex(/^department:[^\s;+@=,]+$/, 'not a department id'))),
		v.minLength(1, 'at least one department')
	)
});
export type BranchSettings = v.InferOutput<typeof BranchEntry>;

/**
 * `BRANCHES=north=<key>@department:north-ops+department:north-field;south=<key>@department:south`:
 * entries separated by `;`, each `name=key@department+department…`. Error messages name the entry, never
 * the key.
 */
export function parseBranches(raw: string): BranchSettings[] {
	const out: BranchSettings[] = [];
	const entries = raw
		.split(';')
		.map((s) => s.trim())
		.filter(Boolean);
	for (const [i, entry] of entries.entries()) {
		const match = /^([^=]*)=([^@]*)@(.*)$/.exec(entry);
		const label = `BRANCHES entry ${i + 1}${match ? ` (${match[1]})` : ''}`;
		if (!match) throw new SettingsError(`${label}: expected name=key@department:a+department:b`);
		const parsed = v.safeParse(BranchEntry, {
			name: match[1]!.trim(),
			key: match[2]!.trim(),
			departmentIds: match[3]!
				.split('+')
				.map((d) => d.trim())
				.filter(Boolean)
		});
		if (!parsed.success) {
			throw new SettingsError(`${label}: ${parsed.issues.map((x) => x.message).join('; ')}`);
		}
		if (out.some((b) => b.name === parsed.output.name)) {
			throw new SettingsError(`${label}: the name ${parsed.output.name} is used twice`);
		}
		out.push(parsed.output);
	}
	return out;
}

/** CENTER_URL, BRANCH_NAME and BRANCH_KEY go together: this server is then a branch of that center. */
function parseLink(e: {
	CENTER_URL?: string | undefined;
	BRANCH_NAME?: string | undefined;
	BRANCH_KEY?: string | undefined;
}): Settings['center'] {
	const given = [e.CENTER_URL, e.BRANCH_NAME, e.BRANCH_KEY].filter((x) => x !== undefined);
	if (given.length === 0) return null;
	if (given.length !== 3) {
		throw new SettingsError(
			'CENTER_URL, BRANCH_NAME and BRANCH_KEY are set together or not at all'
		);
	}
	if (!BRANCH_NAME_PATTERN.test(e.BRANCH_NAME!)) {
		throw new SettingsError('BRANCH_NAME: lower-case letters, digits and -, up to 32');
	}
	if (!BRANCH_KEY_PATTERN.test(e.BRANCH_KEY!)) {
		throw new SettingsError('BRANCH_KEY: at least 16 of A-Z a-z 0-9 . _ ~ -');
	}
	return { url: e.CENTER_URL!.replace(/\/+$/, ''), name: e.BRANCH_NAME!, key: e.BRANCH_KEY! };
}

export interface Settings {
	port: number;
	host: string;
	dataDir: string;
	couchUrl: string | null;
	dbPrefix: string;
	adminPassword: string | null;
	sessionTtlMs: number;
	/** A session nobody used this long ends, before its absolute lifetime. */
	sessionIdleMs: number;
	/** Headers, and every request body but the subscriber import, must arrive within this. */
	requestTimeoutMs: number;
	/** Reverse proxies whose `X-Forwarded-For`/`-Proto` are believed (the client's address for limits). */
	trustedProxies: string[];
	syncWindowMs: number;
	/** Devices' `_changes` from one store feed per database fanned out in memory (off: a store feed each). */
	syncFanout: boolean;
	/** Of a department's tickets, how many of the most recently changed a device's first listing holds. */
	syncRecentTickets: number;
	/** How long the singletons' lease lasts without renewal (issue #16): another server takes over after it. */
	leaseMs: number;
	login: { maxFailures: number; windowMs: number };
	cookieSecure: 'auto' | boolean;
	/**
	 * auto/on: this server runs Kamailio and Janus as its children; off: no telephony; shared (#16): they
	 * run apart (`npm run telephony`) for several app servers, call routing on the lease holder.
	 */
	telephony: 'auto' | 'on' | 'off' | 'shared';
	/** #16 the secret the app servers and the shared Kamailio and Janus have in common; null unless set. */
	telephonyKey: string | null;
	/** #16 where the other app servers reach this one (its call routing, when it holds the lease). */
	internalUrl: string;
	/** #16 the telephony process: where Kamailio asks the app servers (e.g. the reverse proxy). */
	appUrl: string;
	sip: {
		host: string;
		/** The carrier's address for agents' outbound calls (host[:port]); '' = no calls out. */
		outbound: string;
		/** Where desk phones may register from ([] = anywhere); they always need their credentials. */
		deskPhones: string[];
		port: number;
		domain: string;
		/** The carrier's addresses; a port, when given, must match too (`ip:port`, `[ipv6]:port`). */
		trunks: SipPeer[];
		/**
		 * The address Janus's SIP plugin binds to and sends from: never a trunk's, so the two are told apart;
		 * '' when this machine has no address to give it (telephony then does not start).
		 */
		janusIp: string;
		hotlines: string[];
		janusHttpPort: number;
		janusWsPort: number;
		janusAdminPort: number;
		janusPublicIp: string;
		evapiPort: number;
		/** #16 where the shared Kamailio (evapi) and Janus (WebSocket) listen for the app servers. */
		telephonyHost: string;
	};
	/** #18 F23 the voice menu in front of the agents (on when `hotlines` names any). */
	ivr: {
		hotlines: string[];
		sipPort: number;
		ngPort: number;
		dtmfPort: number;
		rtpMin: number;
		rtpMax: number;
	};
	/** STUN/TURN servers handed to softphones behind NAT. */
	ice: IceSettings;
	/** F32: record every agent call (both directions mixed) into `DATA_DIR/recordings`. */
	recordCalls: boolean;
	acd: {
		offerSeconds: number;
		maxWaitSeconds: number;
		wrapUpSeconds: number;
		/** An agent with no page open this long is signed out. */
		goneSeconds: number;
	};
	/** The built PWA (adapter-static output); null when the server runs without a web build (API tests). */
	webDir: string | null;
	/** F29, at the center: the branch offices allowed to replicate through `/replicate`. */
	branches: BranchSettings[];
	/** F29, at a branch: the center it replicates with; null when this server is no branch. */
	center: { url: string; name: string; key: string } | null;
}

export class SettingsError extends Error {}

export interface SipPeer {
	ip: string;
	port: number | null;
}

/**
 * Janus's SIP side needs an address of its own, and one of this machine's interfaces' (Janus ignores any
 * other `local_ip` — a loopback alias such as 127.0.0.2 does not work): SIP_HOST when that is a LAN
 * address, beside a loopback SIP_HOST the first non-loopback IPv4 address.
 */
function janusSipIp(given: string | undefined, sipHost: string): string {
	const local = Object.values(networkInterfaces()).flatMap((list) => list ?? []);
	if (given !== undefined) {
		if (!local.some((a) => a.address === given)) {
			throw new SettingsError(
				`JANUS_SIP_IP: ${given} is not an address of this machine's interfaces (Janus binds its SIP side to one)`
			);
		}
		return given;
	}
	if (!sipHost.startsWith('127.') && sipHost !== '::1') return sipHost;
	return local.find((a) => a.family === 'IPv4' && !a.internal)?.address ?? '';
}

/**
 * SIP_TRUNKS: `ip`, `ip:port` or `[ipv6]:port` entries. Whatever comes from a trunk's address is taken for
 * the carrier, so none may be Janus's SIP address.
 */
function parseTrunks(raw: string, janusIp: string): SipPeer[] {
	return list(raw).map((entry) => {
		const match = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry) ?? /^([^:]+):(\d+)$/.exec(entry);
		const ip = match ? match[1]! : entry;
		const port = match?.[2] ? Number(match[2]) : null;
		if (!v.is(v.pipe(v.string(), v.ip()), ip) || (port !== null && (port < 1 || port > 65535))) {
			throw new SettingsError(
				`SIP_TRUNKS: ${entry} is not an address (ip, ip:port or [ipv6]:port)`
			);
		}
		if (ip === janusIp) {
			throw new SettingsError(
				`SIP_TRUNKS: ${ip} is Janus's SIP address (JANUS_SIP_IP), so the gateway's requests would count as the carrier's; give Janus another address`
			);
		}
		return { ip, port };
	});
}

/** `min-max`, a range of at least 10 ports (rtpengine takes two per call leg). */
function rtpRange(text: string): { rtpMin: number; rtpMax: number } {
	const [rtpMin, rtpMax] = text.split('-').map(Number) as [number, number];
	if (!(rtpMin >= 1024 && rtpMax <= 65535 && rtpMax - rtpMin >= 9)) {
		throw new SettingsError(
			`IVR_RTP_PORTS: ${text} is not a range of at least 10 ports between 1024 and 65535`
		);
	}
	return { rtpMin, rtpMax };
}

const list = (s: string) =>
	s
		.split(',')
		.map((x) => x.trim())
		.filter(Boolean);

/** Variables that hold secrets: a bad value is named, never echoed (it would land in logs). */
const SECRET_VARIABLES = new Set([
	'ADMIN_PASSWORD',
	'COUCHDB_URL',
	'TURN_SECRET',
	'TURN_PASSWORD',
	'BRANCH_KEY',
	'BRANCHES',
	'TELEPHONY_KEY'
]);

/** Parses the environment; throws SettingsError naming every bad variable. */
export function loadSettings(env: Record<string, string | undefined> = process.env): Settings {
	// An empty variable means "not set", as in most shells' and .env conventions.
	const given = Object.fromEntries(
		Object.entries(env).filter(([, value]) => value !== undefined && value !== '')
	);
	const result = v.safeParse(EnvSchema, given);
	if (!result.success) {
		const lines = result.issues.map((i) => {
			const name = v.getDotPath(i) ?? '?';
			if (!SECRET_VARIABLES.has(name)) {
				return `${name}: ${i.message} (got ${JSON.stringify(i.input)})`;
			}
			// valibot's own message repeats the value: describe the problem without it.
			const problem =
				i.type === 'min_length'
					? `shorter than ${String(i.requirement)} characters`
					: `not a valid ${i.type}`;
			return `${name}: ${problem} (a value of ${String(i.input).length} characters, not shown)`;
		});
		throw new SettingsError(`Invalid environment:\n  ${lines.join('\n  ')}`);
	}
	const e = result.output;
	if (e.TELEPHONY === 'shared' && !e.TELEPHONY_KEY) {
		throw new SettingsError(
			'TELEPHONY=shared needs TELEPHONY_KEY: the secret the app servers share with `npm run telephony` (24 or more of A-Z a-z 0-9 . _ ~ + / = -)'
		);
	}
	const janusIp = janusSipIp(e.JANUS_SIP_IP, e.SIP_HOST);
	const notHotlines = list(e.IVR_HOTLINES).filter((n) => !list(e.HOTLINES).includes(n));
	if (notHotlines.length > 0) {
		throw new SettingsError(
			`IVR_HOTLINES: ${notHotlines.join(', ')} not among the hotlines (HOTLINES=${e.HOTLINES})`
		);
	}
	return {
		port: e.PORT,
		host: e.HOST,
		dataDir: resolve(e.DATA_DIR),
		couchUrl: e.COUCHDB_URL ?? null,
		dbPrefix: e.DB_PREFIX,
		adminPassword: e.ADMIN_PASSWORD ?? null,
		sessionTtlMs: e.SESSION_TTL_HOURS * 3_600_000,
		sessionIdleMs: e.SESSION_IDLE_MINUTES * 60_000,
		requestTimeoutMs: e.REQUEST_TIMEOUT_SECONDS * 1000,
		trustedProxies: list(e.TRUST_PROXY),
		syncWindowMs: e.SYNC_WINDOW_DAYS * 86_400_000,
		syncFanout: e.SYNC_FANOUT === 'on',
		syncRecentTickets: e.SYNC_RECENT_TICKETS,
		leaseMs: e.LEASE_SECONDS * 1000,
		login: { maxFailures: e.LOGIN_MAX_FAILURES, windowMs: e.LOGIN_WINDOW_MINUTES * 60_000 },
		cookieSecure: e.COOKIE_SECURE === 'auto' ? 'auto' : e.COOKIE_SECURE === 'true',
		telephony: e.TELEPHONY,
		telephonyKey: e.TELEPHONY_KEY ?? null,
		internalUrl: e.INTERNAL_URL ?? `http://127.0.0.1:${e.PORT}`,
		appUrl: e.APP_URL ?? `http://127.0.0.1:${e.PORT}`,
		sip: {
			host: e.SIP_HOST,
			port: e.SIP_PORT,
			domain: e.SIP_DOMAIN,
			trunks: parseTrunks(e.SIP_TRUNKS, janusIp),
			janusIp,
			hotlines: list(e.HOTLINES),
			outbound: e.SIP_OUTBOUND,
			deskPhones: list(e.DESK_PHONES),
			janusHttpPort: e.JANUS_HTTP_PORT,
			janusWsPort: e.JANUS_WS_PORT,
			janusAdminPort: e.JANUS_ADMIN_PORT,
			janusPublicIp: e.JANUS_PUBLIC_IP ?? '',
			evapiPort: e.EVAPI_PORT,
			telephonyHost: e.TELEPHONY_HOST
		},
		ivr: {
			hotlines: list(e.IVR_HOTLINES),
			sipPort: e.IVR_SIP_PORT,
			ngPort: e.IVR_NG_PORT,
			dtmfPort: e.IVR_DTMF_PORT,
			...rtpRange(e.IVR_RTP_PORTS)
		},
		ice: {
			urls: list(e.TURN_URLS),
			secret: e.TURN_SECRET,
			username: e.TURN_USERNAME,
			password: e.TURN_PASSWORD
		},
		recordCalls: e.RECORD_CALLS === 'on',
		acd: {
			offerSeconds: e.ACD_OFFER_SECONDS,
			maxWaitSeconds: e.ACD_MAX_WAIT_SECONDS,
			wrapUpSeconds: e.ACD_WRAPUP_SECONDS,
			goneSeconds: e.AGENT_GONE_SECONDS
		},
		webDir: e.WEB_DIR ? resolve(e.WEB_DIR) : null,
		branches: parseBranches(e.BRANCHES),
		center: parseLink(e)
	};
}
