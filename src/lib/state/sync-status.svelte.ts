/** Replication status for the header indicator. */
export type SyncPhase = 'idle' | 'pulling' | 'paused' | 'error';

export class SyncStatus {
	phase = $state<SyncPhase>('idle');
	lastSyncedAt = $state<number | null>(null);
	/** Local changes not yet on the server. */
	pending = $state(0);
	/** Tickets received from the server since this replica's sync started (a first sync's progress, #17). */
	received = $state(0);
	/** Documents the server refused in this session (kept on the device, never silently dropped). */
	refused = $state<string[]>([]);

	markSynced() {
		this.phase = 'paused';
		this.lastSyncedAt = Date.now();
	}
}

export const syncStatus = new SyncStatus();
