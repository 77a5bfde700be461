/** #14 the one configuration view: how often it reads the replica, and what it shows after each change. */
import { beforeEach, expect, test, vi } from 'vitest';
import type { ConfigDoc } from '#shared/docs/config';

/** The replica as data/config shows it: its documents, its reads, and who follows its changes. */
const replica = vi.hoisted(() => ({
	docs: [] as unknown[],
	reads: 0,
	/** Reads held back until released (to finish them out of order). */
	held: [] as (() => void)[],
	hold: false,
	listeners: new Set<() => void>(),
	change() {
		for (const l of this.listeners) l();
	}
}));

vi.mock('$lib/data/config', () => ({
	readAll: () => {
		replica.reads += 1;
		const docs = replica.docs;
		if (!replica.hold) return Promise.resolve(docs);
		return new Promise((resolve) => replica.held.push(() => resolve(docs)));
	},
	onConfigChange: (listener: () => void) => {
		replica.listeners.add(listener);
		return () => replica.listeners.delete(listener);
	}
}));

const { ConfigView } = await import('./config-view.svelte');

const department = (id: string, name: string): ConfigDoc => ({
	_id: `department:${id}`,
	type: 'department',
	name,
	parentId: null,
	isCenter: id === 'center',
	order: 0
});
const role = (id: string, name: string): ConfigDoc => ({
	_id: `role:${id}`,
	type: 'role',
	name,
	permissions: []
});

async function settled() {
	await vi.waitFor(() => expect(replica.held).toEqual([]));
	for (let i = 0; i < 5; i++) await Promise.resolve();
}

beforeEach(() => {
	replica.docs = [department('center', '客服中心'), role('agent', '坐席')];
	replica.reads = 0;
	replica.held = [];
	replica.hold = false;
	replica.listeners.clear();
});

test('#14 nothing is read until something shows the configuration; then one watch serves every reader, one read per change', async () => {
	const config = new ConfigView();
	expect(replica.reads).toBe(0);
	expect(replica.listeners.size).toBe(0);

	// Seventeen pages and components read it: still one read and one watch.
	for (let i = 0; i < 17; i++) void config.departments;
	void config.roles;
	await settled();
	expect(replica.reads).toBe(1);
	expect(replica.listeners.size).toBe(1);
	expect(config.loaded).toBe(true);
	expect(config.departmentName('department:center')).toBe('客服中心');
	expect(config.roleName('role:agent')).toBe('坐席');
	expect(config.departmentName('department:gone')).toBe('department:gone');
	expect(config.roleName(null)).toBe('');

	// Replication brings a renamed department: read once, shown everywhere.
	replica.docs = [department('center', '客户服务中心'), role('agent', '坐席')];
	replica.change();
	await settled();
	expect(replica.reads).toBe(2);
	expect(config.departments.map((d) => d.name)).toEqual(['客户服务中心']);
	expect(config.crews).toEqual([]);
});

test('#14 an older read finishing last never overwrites a newer one', async () => {
	const config = new ConfigView();
	void config.departments;
	await settled();
	replica.hold = true;
	replica.docs = [department('network', '网络部')];
	replica.change();
	replica.docs = [department('network', '网络部'), department('billing', '财务部')];
	replica.change();
	expect(replica.held).toHaveLength(2);
	const [older, newer] = replica.held.splice(0);
	newer!();
	older!();
	await settled();
	expect(config.departments.map((d) => d.name)).toEqual(['网络部', '财务部']);
});

test('#14 a forgotten replica (sign-out) empties the view: the next user of the browser sees nothing of it', async () => {
	const config = new ConfigView();
	expect(config.roles).toEqual([]);
	await settled();
	expect(config.roles.map((r) => r.name)).toEqual(['坐席']);
	replica.docs = [];
	replica.change();
	await settled();
	expect(config.roles).toEqual([]);
	expect(config.departments).toEqual([]);
});
