/**
 * Builds the running product from a Settings: store (embedded or CouchDB), provisioning, first-start seed,
 * services and the Hono app. Used by index.ts and by the integration tests, so both run the same wiring.
 */
import { createStoreHealth } from './services/store-health';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createApp, defaultWebDir } from './app';
import { openStore, provisionStore, type Store } from './store';
import { createAudit } from './services/audit';
import { createAccounts } from './services/accounts';
import { createSessions, endedFor, SESSION_SWEEP_MS } from './services/sessions';
import { createFailureLimiter } from './services/rate-limit';
import { seedConfig } from './services/seed';
import { createConfigAdmin } from './services/config-admin';
import { startConfigIndex } from './services/config-index';
import { startTicketResolver } from './services/ticket-resolver';
import { soleLease, startLease, type LeaseDoc } from './services/lease';
import { createBranchRegistry } from './branches/center';
import { startBranchLink, type BranchLink } from './branches/link';
import type { LinkStatus } from '#shared/wire/branches';
import { openCustomerIndex, startCustomerIndexer } from './services/customer-index';
import { createCustomerImport } from './services/customer-import';
import { getSecret, privateFolder } from './secrets';
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { startTelephony, type RunningTelephony } from './telephony/supervisor';
import { createSipCredentials } from './telephony/credentials';
import { createDeskPhones } from './services/desk-phones';
import { createTicketReads } from './services/tickets';
import { openTicketHistory, startTicketHistory } from './services/ticket-history';
import { createDevices } from './services/devices';
import { createMetrics } from './services/metrics';
import { createCallRecords } from './telephony/call-records';
import { createReplicationDoors } from './replication';
import { startCallHandling, type CallHandling, type CallHandlingOptions } from './telephony/calls';
import { startVoiceMenu, type VoiceMenu } from './ivr/voice-menu';
import { createCallbackRequests } from './ivr/callback-requests';
import type { NoticeDoc, VoiceMenuDoc } from '#shared/docs/config';
import { noticesFor } from '#shared/notices';
import { normalizePhone } from '#shared/phone';
import { createSharedRouting, type SharedRouting } from './telephony/routing';
import { sharedSecrets } from './telephony/shared';
import { telephonySettings } from './telephony/telephony-config';
import type { AgentState } from './telephony/acd';
import { createEventHub } from './services/events';
import { createJanusProxy } from './telephony/janus-proxy';
import { createRecordings } from './telephony/recordings';
import { SESSION_COOKIE } from './middleware/auth';
import type { Settings } from './settings';
import type { AppDeps } from './context';

/** The project root: the nearest folder above this module holding package.json (source or bundle). */
export function projectRoot(): string {
	let dir = dirname(fileURLToPath(import.meta.url));
	while (!existsSync(join(dir, 'package.json'))) {
		const parent = dirname(dir);
		if (parent === dir) throw new Error('package.json not found above ' + import.meta.url);
		dir = parent;
	}
	return dir;
}

function which(binary: string): boolean {
	return (process.env.PATH ?? '')
		.split(':')
		.concat(['/usr/sbin', '/usr/bin'])
		.some((d) => d && existsSync(join(d, binary)));
}

/**
 * What runs on one app server only (issue #16): the conflict resolver and a branch office's link to its
 * center, started when this server gains the lease and stopped when it loses it. The link's status says
 * `standby` on the servers that do not hold it.
 */
function createSingletons({
	store,
	center,
	removeEndedSessions,
	log
}: {
	store: Store;
	center: Settings['center'];
	/** The periodic job: sessions that ended without a sign-out deleted from the store. */
	removeEndedSessions: () => Promise<number>;
	log: (msg: string) => void;
}) {
	let resolver: { stop(): Promise<void> } | null = null;
	let link: BranchLink | null = null;
	let sweeper: ReturnType<typeof setInterval> | null = null;
	const sweep = () =>
		void removeEndedSessions().then(
			(n) => n > 0 && log(`sessions: ${n} ended sign-ins removed`),
			(err: unknown) => log(`sessions: ended sign-ins not removed (${(err as Error).message})`)
		);
	return {
		start() {
			resolver ??= startTicketResolver(store, log);
			if (center) link ??= startBranchLink({ store, center, log });
			if (!sweeper) {
				sweeper = setInterval(sweep, SESSION_SWEEP_MS);
				sweeper.unref();
				sweep();
			}
		},
		async stop() {
			const running = [resolver, link];
			resolver = link = null;
			if (sweeper) clearInterval(sweeper);
			sweeper = null;
			for (const r of running) await r?.stop();
		},
		/** The branch link as `/api/branches` and the health route see it; null at a center. */
		link: center
			? {
					status: (): LinkStatus =>
						link?.status() ?? {
							center: center.url,
							name: center.name,
							state: 'standby',
							replications: []
						},
					stop: async () => {}
				}
			: null
	};
}

export async function createRuntime(settings: Settings) {
	// Secrets, subscribers' data and recordings live under it: the owner's only, whatever the umask.
	privateFolder(settings.dataDir);
	const root = projectRoot();
	const version = (
		JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }
	).version;
	const store = await openStore(settings);
	await provisionStore(store, join(root, 'sync', 'ddocs'));
	// A branch office (F29) takes its configuration and accounts from the center: seeding its own would
	// put a second, different revision of the same ids (`setting:seed`, roles, `user:admin`) beside them.
	const isBranch = settings.center !== null;
	const seeded = isBranch ? false : await seedConfig(store);
	const audit = createAudit(store);
	const accounts = createAccounts({ store, audit });
	const firstAdmin = isBranch ? null : await accounts.ensureFirstAdmin(settings.adminPassword);
	const customerIndex = openCustomerIndex(join(settings.dataDir, 'customer-index.sqlite'));
	const log = (msg: string) => console.error(msg);
	const customers = {
		index: customerIndex,
		indexer: startCustomerIndexer(store, customerIndex, log),
		importer: createCustomerImport(store)
	};
	const telephonyInstalled = which('kamailio') && which('janus');
	const telephony: {
		status: ReturnType<AppDeps['telephony']>;
		phone: ReturnType<AppDeps['phone']>;
		running: RunningTelephony | null;
		calls: CallHandling | null;
		/** #16 TELEPHONY=shared: call routing under the lease, with the other app servers. */
		shared: SharedRouting | null;
		/** #18 the voice menu in front of the hotlines of IVR_HOTLINES. */
		menu: VoiceMenu | null;
	} = {
		status:
			settings.telephony === 'off'
				? { state: 'off', detail: 'TELEPHONY=off: tickets are entered by hand' }
				: settings.telephony === 'shared'
					? { state: 'unavailable', detail: 'shared Kamailio and Janus: linking to them' }
					: {
							state: 'unavailable',
							detail: telephonyInstalled
								? 'Kamailio and Janus are installed; starting with the server'
								: 'Kamailio/Janus not installed: tickets are entered by hand'
						},
		phone: null,
		running: null,
		calls: null,
		shared: null,
		menu: null
	};
	const hub = createEventHub();
	const configIndex = startConfigIndex(store, log);
	const configAdmin = createConfigAdmin({ store, audit, index: configIndex });
	const historyIndex = openTicketHistory(join(settings.dataDir, 'ticket-history.sqlite'));
	const history = startTicketHistory(store, historyIndex, log);
	const tickets = createTicketReads({ store, configAdmin, history });
	const callRecords = createCallRecords({ store });
	const recordings = createRecordings({
		dir: join(settings.dataDir, 'recordings'),
		enabled: settings.recordCalls,
		log,
		onReady: (callId) => void telephony.calls?.recorded(callId)
	});

	const singletons = createSingletons({
		store,
		center: settings.center,
		removeEndedSessions: () => deps.sessions.removeEnded(),
		log
	});
	const branchRegistry = createBranchRegistry({ store, branches: settings.branches });
	const instanceId = getSecret(settings.dataDir, 'instance-id');
	const deps: AppDeps = {
		settings: { ...settings, webDir: settings.webDir ?? defaultWebDir(root) },
		storeKind: store.kind,
		storeHealth: createStoreHealth(store),
		accounts,
		sessions: createSessions({
			store,
			ttlMs: settings.sessionTtlMs,
			idleMs: settings.sessionIdleMs
		}),
		audit,
		configAdmin,
		tickets,
		devices: createDevices({ store, branchName: settings.center?.name ?? null }),
		metrics: createMetrics(store, () => deps.replication.feedStats()),
		callRecords,
		customers,
		limiter: {
			perPair: createFailureLimiter({
				max: settings.login.maxFailures,
				windowMs: settings.login.windowMs
			}),
			perAddress: createFailureLimiter({
				max: settings.login.maxFailures * 5,
				windowMs: settings.login.windowMs
			}),
			perAccount: createFailureLimiter({
				max: settings.login.maxFailures * 5,
				windowMs: settings.login.windowMs
			})
		},
		instanceId,
		replication: createReplicationDoors({
			store,
			instanceId,
			configAdmin,
			branches: branchRegistry,
			syncWindowMs: settings.syncWindowMs,
			recentTickets: settings.syncRecentTickets,
			fanout: settings.syncFanout,
			snapshots: {
				dir: settings.dataDir,
				// A snapshot belongs to the store it was taken of.
				store: `${settings.couchUrl ? new URL(settings.couchUrl).host : 'embedded'}/${settings.dbPrefix}`
			},
			log
		}),
		version,
		hub,
		recordings,
		deskPhones: createDeskPhones({ store, audit, realm: settings.sip.domain }),
		telephony: () => telephony.status,
		phone: () => telephony.phone,
		callRouting: () =>
			!telephony.shared || telephony.calls
				? 'here'
				: { url: lease.holder() === instanceId ? null : lease.holderUrl() },
		branches: { center: branchRegistry, link: singletons.link }
	};
	// The singletons run on the one app server that holds the lease (issue #16); with one server, that one.
	// On the embedded store there is no other: the lease is this server's without a document.
	// #16 with TELEPHONY=shared, call routing is one of them (once telephony started, see startShared).
	const onGain = () => {
		singletons.start();
		if (telephony.shared) routeCalls();
	};
	const onLose = async () => {
		if (telephony.shared) followRouting();
		await singletons.stop();
	};
	const lease =
		store.kind === 'couchdb'
			? startLease({
					db: store.db<LeaseDoc>('users'),
					holder: instanceId,
					url: settings.internalUrl,
					ttlMs: settings.leaseMs,
					onGain,
					onLose,
					log
				})
			: soleLease({ holder: instanceId, url: settings.internalUrl, onGain, onLose });
	/** #16 the lease came here: the ACD runs here, on the shared Kamailio. */
	function routeCalls() {
		const calls = telephony.shared!.gain();
		telephony.calls = calls;
		if (telephony.phone) telephony.phone.acd = calls.acd;
		telephony.status = {
			state: 'running',
			detail: `shared Kamailio and Janus at ${settings.sip.telephonyHost}; call routing on this server`
		};
	}
	/** #16 the lease is another server's: its ACD routes the calls, this server relays. */
	function followRouting() {
		telephony.shared!.lose();
		telephony.calls = null;
		if (telephony.phone) telephony.phone.acd = null;
		telephony.status = {
			state: 'running',
			detail: `shared Kamailio and Janus at ${settings.sip.telephonyHost}; call routing on the server holding the lease`
		};
	}
	/** An agent as call routing has them: the ACD here, or (#16) the holder's last word. */
	const agentOf = (agentId: string): AgentState | null =>
		telephony.shared?.agent(agentId) ?? telephony.calls?.acd.agent(agentId) ?? null;
	const janus = createJanusProxy({
		sessions: deps.sessions,
		cookieName: SESSION_COOKIE,
		port: () => (telephony.phone ? settings.sip.janusWsPort : null),
		sip: () => ({
			proxy: `sip:${settings.sip.host}:${settings.sip.port}`,
			domain: settings.sip.domain,
			hotlines: settings.sip.hotlines
		}),
		isAgent: (id) => accounts.isAgentId(id),
		host: settings.telephony === 'shared' ? settings.sip.telephonyHost : '127.0.0.1',
		acdCall: (agentId, sipCallId) => {
			const agent = agentOf(agentId);
			const busy = agent?.state === 'ringing' || agent?.state === 'talking';
			return busy && agent.callId === sipCallId ? agent.callId : null;
		},
		gateToken: () => telephony.phone?.gateToken ?? null,
		recordingBase: (callId, agentId) =>
			callId ? recordings.base(callId) : recordings.legBase(agentId),
		onRecorded: (r) => void recordings.finish(r)
	});
	// A sign-in that ends takes its softphone with it, and its agent is offered no more calls (issue #13):
	// at once when every session of the user ended (disabled, password reset, sign-out everywhere), or
	// when the last page of a signed-out session went.
	const stopSignOuts = deps.sessions.onUserSessionEnd((ended) => {
		janus.closeSessions((s) => endedFor(ended, s.userId, s.token));
		const all = !ended.token && !ended.except;
		setImmediate(() => {
			const acd = telephony.calls?.acd;
			const agent = acd?.agents().find((a) => a.userId === ended.userId);
			if (!acd || !agent || agent.state === 'signedOut') return;
			// #16 with several app servers, a page on any of them keeps the agent.
			const connected = telephony.shared?.connected(ended.userId) ?? hub.connected(ended.userId);
			if (all || !connected) acd.setAgentState(agent, 'signedOut', ended.why);
		});
	});
	/** How calls are handled on Kamailio (its evapi key; the pages to tell). */
	const callHandling = (
		evapiKey: string,
		pages: CallHandlingOptions['hub'],
		more: Partial<CallHandlingOptions> = {}
	): CallHandlingOptions => ({
		evapiPort: settings.sip.evapiPort,
		evapiKey,
		sipDomain: settings.sip.domain,
		maxWaitMs: settings.acd.maxWaitSeconds * 1000,
		wrapUpMs: settings.acd.wrapUpSeconds * 1000,
		offerMs: settings.acd.offerSeconds * 1000,
		callRecords,
		tickets,
		customers: customerIndex,
		hub: pages,
		log,
		agentGoneMs: settings.acd.goneSeconds * 1000,
		...more
	});

	/**
	 * #16 TELEPHONY=shared: Kamailio and Janus run apart (`npm run telephony`); the ACD runs on the server
	 * holding the lease, the others link to it. Credentials issued on the holder are kept by every server.
	 */
	function startShared() {
		const secrets = sharedSecrets(settings.telephonyKey!);
		const credentials = createSipCredentials(deps.sessions, {
			realm: settings.sip.domain,
			deskPhones: deps.deskPhones,
			onIssue: (issued) => telephony.shared?.issued(issued)
		});
		telephony.phone = {
			credentials,
			key: secrets.internalKey,
			gateToken: secrets.gateToken,
			acd: null
		};
		telephony.shared = createSharedRouting({
			hub,
			clusterKey: secrets.clusterKey,
			credentials,
			holderUrl: () => (lease.held() || lease.holder() === instanceId ? null : lease.holderUrl()),
			startCalls: (pages, mirror) =>
				startCallHandling(
					callHandling(secrets.internalKey, pages, {
						evapiHost: settings.sip.telephonyHost,
						...mirror
					})
				),
			log
		});
		if (lease.held()) routeCalls();
		else followRouting();
	}

	return {
		app: createApp(deps),
		deps,
		/** The store itself: for the tests that read or arrange what it holds, and its write count. */
		store,
		seeded,
		firstAdmin,
		/**
		 * The HTTP server's `upgrade` listener: the softphone's WebSocket to Janus (F30), and (#16) the other
		 * app servers' links to this one while it routes calls.
		 */
		upgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => {
			if (telephony.shared?.upgrade(req, socket, head)) return;
			janus.upgrade(req, socket, head);
		},
		/** Ends open softphone sockets: `janus.closeSessions((s) => s.userId === id)` when a sign-in ends. */
		janus,
		/**
		 * Starts Kamailio and Janus once the app listens (Kamailio asks the app for credentials on its
		 * port): with TELEPHONY=on always (a failure stops the start), with auto when they are installed.
		 */
		async startTelephony(appPort: number): Promise<void> {
			if (settings.telephony === 'off' || (settings.telephony === 'auto' && !telephonyInstalled)) {
				return;
			}
			if (settings.telephony === 'shared') return startShared();
			const key = randomBytes(24).toString('base64url');
			const gateToken = randomBytes(18).toString('base64url');
			try {
				if (!settings.sip.janusIp) {
					throw new Error(
						'Janus needs an address of its own for SIP (no network interface but loopback): set JANUS_SIP_IP'
					);
				}
				telephony.running = await startTelephony(
					telephonySettings(settings, {
						appUrl: `http://127.0.0.1:${appPort}`,
						serviceHost: '127.0.0.1',
						internalKey: key,
						gateToken,
						secret: getSecret(settings.dataDir, 'telephony')
					}),
					log
				);
				if (settings.ivr.hotlines.length > 0) {
					await configIndex.ready;
					const callbackRequests = createCallbackRequests({ store, customers: customerIndex });
					telephony.menu = await startVoiceMenu({
						sipHost: settings.sip.host,
						sipPort: settings.sip.port,
						ivr: settings.ivr,
						dir: join(settings.dataDir, 'telephony'),
						menus: {
							menus: () => configIndex.ofType<VoiceMenuDoc>('voiceMenu'),
							notice: (id) => configIndex.ofType<NoticeDoc>('notice').find((n) => n._id === id),
							onChange: (listener) => configIndex.onChange(listener)
						},
						noticesFor: (number) => {
							// The caller's areas: those of the subscribers registered under the number.
							const phone = normalizePhone(number);
							const areas =
								phone.length >= 5
									? customerIndex
											.search({
												q: phone,
												field: 'phone',
												match: 'exact',
												source: 'all',
												limit: 10
											})
											.hits.map((h) => h.area)
									: [];
							return noticesFor(configIndex.ofType<NoticeDoc>('notice'), areas, Date.now()).map(
								(n) => ({ title: n.name, text: n.text })
							);
						},
						callbackRequest: (request) =>
							void callbackRequests
								.record(request)
								.catch((err: Error) =>
									log(
										`voice menu: the callback request of ${request.caller} (${request.callId}) not recorded: ${err.message}`
									)
								),
						record: (record) =>
							void deps.callRecords
								.saveMenu(record)
								.catch((err: Error) =>
									log(`voice menu: the record of ${record.callId} not stored: ${err.message}`)
								),
						log
					});
				}
				const menu = telephony.menu;
				telephony.calls = startCallHandling(
					callHandling(key, hub, menu ? { ivr: (id) => menu.summary(id) } : {})
				);
				await telephony.calls.connected();
			} catch (err) {
				telephony.status = {
					state: 'unavailable',
					detail: `Telephony failed to start: ${(err as Error).message}`
				};
				if (settings.telephony === 'on') throw err;
				return;
			}
			telephony.phone = {
				credentials: createSipCredentials(deps.sessions, {
					realm: settings.sip.domain,
					deskPhones: deps.deskPhones
				}),
				key,
				gateToken,
				acd: telephony.calls!.acd,
				...(telephony.menu ? { ivr: telephony.menu.summary } : {})
			};
			telephony.status = {
				state: 'running',
				detail: telephony.menu
					? `${telephony.running.detail}; voice menu (rtpengine) on ${settings.ivr.hotlines.join(', ')}`
					: telephony.running.detail
			};
		},
		/** The singletons' lease: whether this server holds it (issue #16). */
		lease,
		/** Kamailio's and Janus's child processes, while they run. */
		telephonyProcesses: () => telephony.running,
		/** The call handling on top of Kamailio (its evapi link), while it runs. */
		callHandling: () => telephony.calls,
		close: async () => {
			stopSignOuts();
			await deps.sessions.close();
			telephony.shared?.stop();
			telephony.calls?.stop();
			await telephony.menu?.stop();
			await telephony.running?.stop();
			await lease.stop();
			await configIndex.stop();
			await deps.replication.stopHubs();
			// Checkpoints held in memory go to the store before it closes.
			await deps.replication.checkpoints.stop();
			await customers.indexer.stop();
			customerIndex.close();
			await history.stop();
			historyIndex.close();
			deps.metrics.close();
			await store.close();
		}
	};
}
