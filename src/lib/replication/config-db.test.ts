/** #14 the configuration replica tells its followers when it is forgotten, so no view keeps showing it. */
import { expect, test, vi } from 'vitest';

/** PouchDB as config-db uses it here: local databases by name, holding documents until destroyed. */
const stored = vi.hoisted(
	() =>
		new Map<string, { doc: object }[]>([
			[
				'cc-config-v2',
				[{ doc: { _id: 'department:center', type: 'department', name: '客服中心' } }]
			]
		])
);
vi.mock('./pouch', () => ({
	PouchDB: class {
		constructor(readonly name: string) {}
		allDocs() {
			return Promise.resolve({ rows: stored.get(this.name) ?? [] });
		}
		destroy() {
			stored.delete(this.name);
			return Promise.resolve();
		}
	},
	moveIdbReplica: () => Promise.resolve()
}));

const { destroyConfigReplica, onConfigChange, readAllConfig } = await import('./config-db');

test('#14 forgetting the replica (sign-out) tells whoever shows the configuration, which then reads it empty', async () => {
	expect(await readAllConfig()).toHaveLength(1);
	let told = 0;
	const stop = onConfigChange(() => (told += 1));
	await destroyConfigReplica();
	expect(told).toBe(1);
	expect(await readAllConfig()).toEqual([]);
	stop();
	await destroyConfigReplica();
	expect(told).toBe(1);
});
