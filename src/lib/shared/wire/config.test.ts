import { describe, expect, it } from 'vitest';
import * as v from 'valibot';
import { ConfigItem } from './config';

describe('#14 configuration documents on the wire', () => {
	it('reads each type by its own schema and keeps fields a newer version stored', () => {
		const item = v.parse(ConfigItem, {
			_id: 'department:x',
			_rev: '1-a',
			type: 'department',
			name: '工程部',
			parentId: null,
			isCenter: false,
			order: 2,
			addedLater: 'kept'
		});
		expect(item).toMatchObject({ type: 'department', parentId: null, addedLater: 'kept' });
	});

	it('refuses a document that lacks a field of its type, or is of no known type', () => {
		const role = { _id: 'role:x', type: 'role', name: '坐席' };
		expect(v.safeParse(ConfigItem, role).success).toBe(false);
		expect(v.safeParse(ConfigItem, { ...role, permissions: ['call.take'] }).success).toBe(true);
		expect(v.safeParse(ConfigItem, { ...role, type: 'printer' }).success).toBe(false);
	});
});
