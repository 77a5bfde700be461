/** Replication status for the header indicator. */
export type SyncPhase = 'idle' | 'pulling' | 'paused' | 'error';

export class SyncStatus {
	phase = $state<SyncPhase>('idle');
	lastSyncedAt = $state<number | null>(null);

	markSynced() {
		this.phase = 'paused';
		this.lastSyncedAt = Date.now();
	}
}

export const syncStatus = new SyncStatus();
