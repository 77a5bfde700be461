/**
 * Each signed-in device tells the server, about once a minute while it can, how its replica is doing: changes
 * waiting to sync, documents refused, documents held, last successful sync. Administrators see it per device
 * (同步状态) before an outage turns into lost work.
 */
import { api, send } from '$lib/api/client';
import { deviceCode } from '$lib/cache/db';
import { heldCount } from '$lib/replication/tickets-db';
import { syncStatus } from '$lib/state/sync-status.svelte';
import { BranchHealth } from '#shared/wire/branches';
import {
	ConflictList,
	DeviceHealthList,
	type DeviceHealth,
	type DeviceReport,
	type UnresolvedConflict
} from '#shared/wire/devices';
import { Health } from '#shared/wire/health';

export type { BranchHealth, DeviceHealth, UnresolvedConflict };

const EVERY_MS = 60_000;
let timer: ReturnType<typeof setInterval> | null = null;

async function report(): Promise<void> {
	const code = await deviceCode.get();
	if (!code || !navigator.onLine) return;
	const body: DeviceReport = {
		pending: syncStatus.pending,
		held: await heldCount(),
		refused: syncStatus.refused.length,
		lastSyncedAt: syncStatus.lastSyncedAt ? new Date(syncStatus.lastSyncedAt).toISOString() : null,
		client: navigator.userAgent.slice(0, 200)
	};
	await send(`/devices/${code}/health`, { method: 'PUT', body }).catch(() => {});
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
		api('/devices/health', DeviceHealthList).then((r) => r.devices),
		api('/branches', BranchHealth).catch((): BranchHealth => ({ branches: [], link: null })),
		api('/devices/conflicts', ConflictList).then((r) => r.conflicts)
	]);
	return { devices, branches, conflicts };
}

/** Whether this server is a branch office, whose accounts and configuration are changed at the center (F29). */
export async function atBranchOffice(): Promise<boolean> {
	const health = await api('/health', Health).catch(() => null);
	return Boolean(health?.branch.link);
}
