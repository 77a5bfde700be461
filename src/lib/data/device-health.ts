/**
 * Each signed-in device tells the server, about once a minute while it can, how its replica is doing: changes
 * waiting to sync, documents refused, documents held, last successful sync. Administrators see it per device
 * (同步状态) before an outage turns into lost work.
 */
import { untypedApi } from '$lib/api/client';
import { deviceCode } from '$lib/cache/db';
import { heldCount } from '$lib/replication/tickets-db';
import { syncStatus } from '$lib/state/sync-status.svelte';

const EVERY_MS = 60_000;
let timer: ReturnType<typeof setInterval> | null = null;

async function report(): Promise<void> {
	const code = await deviceCode.get();
	if (!code || !navigator.onLine) return;
	await untypedApi(`/devices/${code}/health`, {
		method: 'PUT',
		body: {
			pending: syncStatus.pending,
			held: await heldCount(),
			refused: syncStatus.refused.length,
			lastSyncedAt: syncStatus.lastSyncedAt
				? new Date(syncStatus.lastSyncedAt).toISOString()
				: null,
			client: navigator.userAgent.slice(0, 200)
		}
	}).catch(() => {});
}

export function startHealthReports(): void {
	if (timer) return;
	timer = setInterval(() => void report(), EVERY_MS);
	addEventListener('online', onOnline);
	void report();
}

function onOnline() {
	// Give replication a moment to push what waited, then report.
	setTimeout(() => void report(), 5_000);
}

export function stopHealthReports(): void {
	if (timer) clearInterval(timer);
	timer = null;
	removeEventListener('online', onOnline);
}

/** One device's last report from one user (a workstation's code is shared by whoever signs in on it). */
export interface DeviceHealth {
	code: string;
	userId: string;
	seenAt: string;
	lastSyncedAt: string | null;
	pending: number;
	refused: number;
	held: number;
	client: string;
}

export interface BranchReplication {
	db: string;
	direction: string;
	state: string;
	lastSyncAt: string | null;
	docsRead: number;
	docsWritten: number;
	docsDenied: number;
	lastError: string | null;
}

export interface BranchHealth {
	branches: { name: string; departmentIds: string[]; lastSeenAt: string | null; tickets: number }[];
	link: { center: string; name: string; state: string; replications: BranchReplication[] } | null;
}

export interface UnresolvedConflict {
	docId: string;
	at: string;
	reason: string;
	versions: object[];
}

/**
 * For administrators (同步状态): every device's last report, the branch offices' replication, and the
 * conflicts the union-of-events rule could not merge.
 */
export async function syncHealth(): Promise<{
	devices: DeviceHealth[];
	branches: BranchHealth;
	conflicts: UnresolvedConflict[];
}> {
	const [devices, branches, conflicts] = await Promise.all([
		untypedApi<{ devices: DeviceHealth[] }>('/devices/health').then((r) => r.devices),
		untypedApi<BranchHealth>('/branches').catch((): BranchHealth => ({ branches: [], link: null })),
		untypedApi<{ conflicts: UnresolvedConflict[] }>('/devices/conflicts').then((r) => r.conflicts)
	]);
	return { devices, branches, conflicts };
}

/** Whether this server is a branch office, whose accounts and configuration are changed at the center (F29). */
export async function atBranchOffice(): Promise<boolean> {
	const health = await untypedApi<{ branch?: { link: string | null } }>('/health').catch(
		() => null
	);
	return Boolean(health?.branch?.link);
}
