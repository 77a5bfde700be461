/** Replication status for the header indicator. */
export type SyncPhase = 'idle' | 'pulling' | 'paused' | 'error';
/** The replications a device runs: the configuration (pull) and its tickets (both ways). */
export type SyncSource = 'config' | 'tickets';

export class SyncStatus {
	#phases = $state<Record<SyncSource, SyncPhase>>({ config: 'idle', tickets: 'idle' });
	lastSyncedAt = $state<number | null>(null);
	/** Local changes not yet on the server. */
	pending = $state(0);
	/** Tickets received from the server since this replica's sync started (a first sync's progress, #17). */
	received = $state(0);
	/** Documents the server refused in this session (kept on the device, never silently dropped). */
	refused = $state<string[]>([]);

	/**
	 * The header's one word for both replications: an error in either, else syncing while either still
	 * pulls (the configuration caught up says nothing of a first sync of tickets), else synced.
	 */
	get phase(): SyncPhase {
		const phases = Object.values(this.#phases);
		if (phases.includes('error')) return 'error';
		if (phases.includes('pulling')) return 'pulling';
		return phases.includes('paused') ? 'paused' : 'idle';
	}

	set(source: SyncSource, phase: SyncPhase) {
		this.#phases[source] = phase;
		if (phase === 'paused') this.lastSyncedAt = Date.now();
	}
}

export const syncStatus = new SyncStatus();
