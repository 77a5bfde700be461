import { describe, expect, it } from 'vitest';
import { loadVdu, verdict } from '../helpers/couch-vm';

const tickets = loadVdu('tickets');
const config = loadVdu('config');
const event = (id: string, extra: object = {}) => ({
	id,
	type: 'created',
	at: '2026-01-01T00:00:00Z',
	by: 'user:a',
	...extra
});
const ticket = (events = [event('e1')], visibleTo = ['department:center']) => ({
	_id: 'ticket:1',
	type: 'ticket',
	visibleTo,
	events
});

describe('cc_tickets validate_doc_update', () => {
	it('accepts a well-formed ticket and an attachment document', () => {
		expect(verdict(tickets, ticket())).toBeNull();
		expect(
			verdict(tickets, {
				_id: 'att:ticket:1:a',
				type: 'att',
				ticketId: 'ticket:1',
				visibleTo: ['user:a']
			})
		).toBeNull();
	});

	it('refuses malformed documents', () => {
		expect(verdict(tickets, { ...ticket(), _id: 'x:1' })).toMatch(/ticket:/);
		expect(verdict(tickets, ticket([]))).toMatch(/events/);
		expect(verdict(tickets, ticket([{ id: 'e1' } as never]))).toMatch(/id, type, at and by/);
		expect(verdict(tickets, ticket([event('e1'), event('e1')]))).toMatch(/unique/);
		expect(verdict(tickets, ticket(undefined, []))).toMatch(/visibleTo/);
		expect(
			verdict(tickets, {
				...ticket(),
				_attachments: { photo: { content_type: 'image/png', data: 'AAAA' } }
			})
		).toMatch(/carries no files/);
		expect(verdict(tickets, { _id: 'thing:1', type: 'thing', visibleTo: ['a'] })).toMatch(
			/unknown/
		);
	});

	it('events and visibleTo only grow against the parent revision', () => {
		const old = {
			...ticket([event('e1'), event('e2')], ['department:center', 'user:a']),
			_rev: '2-b'
		};
		expect(
			verdict(
				tickets,
				ticket([event('e1'), event('e2'), event('e3')], ['department:center', 'user:a']),
				old
			)
		).toBeNull();
		expect(verdict(tickets, ticket([event('e1')], ['department:center', 'user:a']), old)).toMatch(
			/removed/
		);
		expect(
			verdict(
				tickets,
				ticket([event('e1', { type: 'edited' }), event('e2')], ['department:center', 'user:a']),
				old
			)
		).toMatch(/edited/);
		expect(
			verdict(tickets, ticket([event('e1'), event('e2')], ['department:center']), old)
		).toMatch(/grows/);
	});

	it('a replicated revision from an older branch is stored (as a conflict) for the merge to keep', () => {
		const winner = { ...ticket([event('e1'), event('e2')]), _rev: '3-c' };
		const fromOtherBranch = {
			...ticket([event('e1'), event('e9')]),
			_revisions: { start: 3, ids: ['x', 'a'] }
		};
		expect(verdict(tickets, fromOtherBranch, winner)).toBeNull();
	});

	it('only the server (store administrator) deletes', () => {
		expect(verdict(tickets, { _id: 'ticket:1', _deleted: true })).toMatch(/server/);
		expect(verdict(tickets, { _id: 'ticket:1', _deleted: true }, null, ['_admin'])).toBeNull();
	});
});

describe('#16 the app’s own CouchDB account, administrator of its databases only', () => {
	const security = {
		admins: { names: ['ccapp'], roles: [] },
		members: { names: ['ccapp'], roles: [] }
	};
	it('writes configuration and deletes tickets as a store administrator; anyone else may not', () => {
		const role = { _id: 'role:x', type: 'role', name: '坐席', permissions: [] };
		const gone = { _id: 'ticket:1', _deleted: true };
		expect(verdict(config, role, null, [], { name: 'ccapp', security })).toBeNull();
		expect(verdict(tickets, gone, null, [], { name: 'ccapp', security })).toBeNull();
		expect(verdict(config, role, null, [], { name: 'someone', security })).toMatch(
			/administration API/
		);
		expect(verdict(tickets, gone, null, [], { name: 'someone', security })).toMatch(/server/);
		const byRole = { admins: { names: [], roles: ['cc-app'] } };
		expect(verdict(config, role, null, ['cc-app'], { name: 'a', security: byRole })).toBeNull();
	});
});

describe('cc_config validate_doc_update', () => {
	it('only the store administrator writes, with <type>:<key> ids and a name', () => {
		const role = { _id: 'role:x', type: 'role', name: '坐席', permissions: [] };
		expect(verdict(config, role)).toMatch(/administration API/);
		expect(verdict(config, role, null, ['_admin'])).toBeNull();
		expect(verdict(config, { ...role, _id: 'dept:x' }, null, ['_admin'])).toMatch(/<type>:<key>/);
		expect(verdict(config, { ...role, name: '' }, null, ['_admin'])).toMatch(/name/);
		expect(
			verdict(
				config,
				{ ...role, type: 'department', _id: 'department:x' },
				{ ...role, _id: 'department:x' },
				['_admin']
			)
		).toMatch(/type/);
	});
});
