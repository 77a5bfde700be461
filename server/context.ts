/** The Hono environment and the dependencies every route factory receives. */
import type { StoreHealth } from './services/store-health';
import type { ServerMetrics } from './services/metrics';
import type { Settings } from './settings';
import type { Store } from './store';
import type { ReplicationDoors } from './replication';
import type { Accounts, UserDoc } from './services/accounts';
import type { Recordings } from './telephony/recordings';
import type { Sessions } from './services/sessions';
import type { Audit } from './services/audit';
import type { ConfigAdmin } from './services/config-admin';
import type { FailureLimiter } from './services/rate-limit';
import type { CustomerIndex, startCustomerIndexer } from './services/customer-index';
import type { CustomerImport } from './services/customer-import';
import type { SipCredentials } from './telephony/credentials';
import type { DeskPhones } from './services/desk-phones';
import type { Acd } from './telephony/acd';
import type { CallRouting } from './telephony/forward';
import type { EventHub } from './services/events';
import type { BranchRegistry } from './branches/center';
import type { BranchLink } from './branches/link';
import type { TicketReads } from './services/tickets';
import type { Devices } from './services/devices';
import type { CallRecords } from './telephony/call-records';
import type { IvrSummary } from '#shared/wire/telephony';

export interface AppDeps {
	settings: Settings;
	/** Which store the server speaks to (services hold the store itself; routes never do). */
	storeKind: Store['kind'];
	/** Whether the store answers right now (`/api/health`). */
	storeHealth: StoreHealth;
	accounts: Accounts;
	sessions: Sessions;
	audit: Audit;
	configAdmin: ConfigAdmin;
	/** Ticket lists, statistics, history and single tickets outside a device's working set. */
	tickets: TicketReads;
	/** Device codes and the devices' sync-health reports. */
	devices: Devices;
	/** Finished calls as stored (F25 statistics, F32 recordings). */
	callRecords: CallRecords;
	/** The server's own figures: memory, CPU, event loop, store operations (`/api/metrics`). */
	metrics: ServerMetrics;
	customers: {
		index: CustomerIndex;
		indexer: ReturnType<typeof startCustomerIndexer>;
		importer: CustomerImport;
	};
	/** Failed sign-ins per account and address, per address, per account (and registrations per address). */
	limiter: { perPair: FailureLimiter; perAddress: FailureLimiter; perAccount: FailureLimiter };
	/** A stable id of this server instance (the CouchDB-protocol `uuid` of /sync). */
	instanceId: string;
	/** The replication protocol of `/sync` (users' devices) and `/replicate` (branch offices). */
	replication: ReplicationDoors;
	version: string;
	telephony: () => { state: 'off' | 'unavailable' | 'running'; detail: string };
	/** The running telephony (credentials, Kamailio's key), or null when it is off or unavailable. */
	phone: () => {
		credentials: SipCredentials;
		key: string;
		/** Kamailio's mark on the calls it hands to Janus (see telephony-config.ts, TO_GATEWAY). */
		gateToken: string;
		/** The ACD, on the server that routes calls; null on the others (#16 TELEPHONY=shared). */
		acd: Acd | null;
		/** #18 what the caller of a voice-menu call (its Call-ID) did there, while the call lasts. */
		ivr?: (menuCallId: string) => IvrSummary | undefined;
	} | null;
	/**
	 * #16 where calls are routed: here (one server, or this one holds the lease), or the internal address
	 * of the server that does (TELEPHONY=shared; null during a takeover).
	 */
	callRouting: () => CallRouting;
	/** Server-sent events to users' open pages (`/events`). */
	hub: EventHub;
	/** F32 call recordings (playable also while telephony is off). */
	recordings: Recordings;
	/** F1 desk phones' SIP credentials (server-only). */
	deskPhones: DeskPhones;
	/** F29: the branch offices this center serves (`BRANCHES`), and this branch's link to its center. */
	branches: { center: BranchRegistry; link: BranchLink | null };
}

export interface AppEnv {
	Variables: {
		user: UserDoc | null;
		sessionToken: string | null;
	};
}
