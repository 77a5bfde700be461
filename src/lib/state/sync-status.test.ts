import { expect, test } from 'vitest';
import { SyncStatus } from './sync-status.svelte';

test('#17 the header says synced only when both replications are: the configuration caught up does not hide a first sync of tickets', () => {
	const status = new SyncStatus();
	expect(status.phase).toBe('idle');
	status.set('tickets', 'pulling');
	status.set('config', 'paused');
	expect(status.phase).toBe('pulling');
	expect(status.lastSyncedAt).not.toBeNull();
	status.set('tickets', 'paused');
	expect(status.phase).toBe('paused');
	status.set('config', 'error');
	expect(status.phase).toBe('error');
});
