/**
 * The device of `first-sync.bench.ts`, in its own thread as a browser is its own process: replicates one
 * remote into a fresh in-memory database when asked and answers the time it took. Both remotes are reached
 * with Node's fetch, which keeps its connections open as a browser does.
 */
import { parentPort } from 'node:worker_threads';
import { device, PouchDB } from '../helpers/pouch';

export interface DeviceTask {
	name: string;
	url: string;
	headers: Record<string, string>;
	batchSize: number;
}
export interface DeviceResult {
	ms: number;
	docs: number;
	failures: number;
}

async function replicate(task: DeviceTask): Promise<DeviceResult> {
	const db = device(task.name);
	const remote = new PouchDB(task.url, {
		skip_setup: true,
		fetch: (url: string | Request, opts?: RequestInit) => {
			const headers = new Headers(opts?.headers);
			for (const [k, v] of Object.entries(task.headers)) headers.set(k, v);
			return fetch(url, { ...opts, headers });
		}
	} as PouchDB.Configuration.RemoteDatabaseConfiguration);
	const started = performance.now();
	const res = await db.replicate.from(remote, { batch_size: task.batchSize });
	const ms = performance.now() - started;
	const docs = (await db.info()).doc_count;
	await db.destroy();
	return { ms, docs, failures: res.doc_write_failures };
}

parentPort!.on('message', (task: DeviceTask) => {
	void replicate(task).then((result) => parentPort!.postMessage(result));
});
