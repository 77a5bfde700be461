/**
 * A cached fixture built before the feed hub holds no snapshot of it, so every run's server read all its
 * tickets at start (~80 s at 270,000). Started once on the fixture itself (as its build does last) and
 * stopped, the server leaves the snapshot there for every run's copy (and its ticket history index). Kept apart from `fixture.ts`, whose
 * text is part of the cache key.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ADMIN_PASSWORD, waitCaughtUp, type Fixture } from './fixture';
import { startServer } from './server-process';

export async function ensureHubSnapshot(fixture: Fixture, log: (s: string) => void): Promise<void> {
	const dataDir = join(fixture.dir, 'data');
	// The server keeps its ticket history index beside the store (built from every ticket once).
	const derived = ['sync-hub-tickets.v8', 'ticket-history.sqlite'];
	if (derived.every((file) => existsSync(join(dataDir, file)))) return;
	const t = performance.now();
	log(
		`  fixture: starting the server once on it to save the feed hub's table and the history index`
	);
	const warm = await startServer({ dataDir, env: { ADMIN_PASSWORD } });
	await waitCaughtUp(warm.url, warm.pid, fixture.manifest.counts.customers, log);
	await warm.stop();
	log(`  fixture: warmed in ${Math.round((performance.now() - t) / 1000)} s`);
}
