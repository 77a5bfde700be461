import { describe, expect, it } from 'vitest';
import { buildTicket, eventFingerprint, type TicketDoc } from '#shared/tickets/ticket';
import type { TicketEvent } from '#shared/tickets/events';
import type { HeldDoc, KnownIds, WriteRules } from '../services/ticket-access';
import {
	branchAuthors,
	branchCanRead,
	branchSelector,
	refuseBranchWrites,
	type Account
} from './branch-access';

const EAST = 'department:east';
const WEST = 'department:west';
const CENTER = 'department:center';
const known: KnownIds = {
	departments: new Set([EAST, WEST, CENTER]),
	crews: new Set(['crew:east-1', 'crew:west-1']),
	flows: new Set()
};
const accounts = new Map<string, Account>([
	[
		'user:east-agent',
		{ _id: 'user:east-agent', type: 'user', departmentId: EAST, permissions: ['ticket.create'] }
	],
	[
		'user:east-clerk',
		{ _id: 'user:east-clerk', type: 'user', departmentId: EAST, permissions: ['dept.process'] }
	],
	[
		'user:fitter',
		{
			_id: 'user:fitter',
			type: 'user',
			departmentId: 'department:install',
			permissions: ['workOrder.execute']
		}
	],
	[
		'user:west-agent',
		{ _id: 'user:west-agent', type: 'user', departmentId: WEST, permissions: ['ticket.create'] }
	]
]);
const crews = [
	{ _id: 'crew:east-1', departmentId: EAST, memberIds: ['user:fitter'] },
	{ _id: 'crew:west-1', departmentId: WEST, memberIds: ['user:west-agent'] }
];
const scopes = [EAST, 'crew:east-1'];
const rules: WriteRules = {
	scopes,
	author: branchAuthors([EAST], accounts, crews),
	known,
	now: Date.parse('2026-01-02T00:00:00.000Z')
};

const created = (by = 'user:east-agent'): TicketEvent => ({
	id: 'e0',
	type: 'created',
	at: '2026-01-01T00:00:00.000Z',
	by,
	number: 'N',
	callerNumber: '1',
	customerIds: [],
	departmentId: EAST,
	serviceTypeId: null,
	contentCategoryId: null,
	content: '',
	callbackRequired: false
});
const comment = (id: string, by = 'user:east-clerk'): TicketEvent => ({
	id,
	type: 'comment',
	at: '2026-01-01T01:00:00.000Z',
	by,
	text: id
});
const rev = (doc: TicketDoc, r: string, parents: string[] = []) => ({
	...doc,
	_rev: r,
	_revisions: { start: Number(r.split('-')[0]), ids: [r, ...parents].map((x) => x.split('-')[1]!) }
});
const ticket = (events: TicketEvent[], r: string, parents: string[] = []) =>
	rev(buildTicket('ticket:t', events, CENTER), r, parents);
function held(...leaves: { _rev: string; events: TicketEvent[] }[]): Map<string, HeldDoc> {
	const events = new Map<string, string>();
	for (const leaf of leaves) for (const e of leaf.events) events.set(e.id, eventFingerprint(e));
	const winner = buildTicket('ticket:t', leaves[0]!.events, CENTER);
	return new Map([
		['ticket:t', { winner, events, leaves: leaves.map((l) => ({ rev: l._rev, events: l.events })) }]
	]);
}
const tombstone = (r: string, parent: string) => ({
	_id: 'ticket:t',
	_deleted: true,
	_rev: r,
	_revisions: { start: Number(r.split('-')[0]), ids: [r.split('-')[1], parent.split('-')[1]] }
});

describe('F29 what a branch may read and write', () => {
	it('reads accounts but not sessions, counters or design documents', () => {
		const doc = ticket([created()], '1-a');
		expect(branchCanRead('users', { _id: 'user:a' }, [])).toBe(true);
		expect(branchCanRead('users', { _id: 'session:abc', type: 'session' }, [])).toBe(false);
		expect(branchCanRead('users', { _id: 'counter:devices' }, [])).toBe(false);
		expect(branchCanRead('config', { _id: '_design/app' }, [])).toBe(false);
		expect(branchCanRead('tickets', doc, [EAST])).toBe(true);
		expect(branchCanRead('tickets', doc, [WEST])).toBe(false);
		expect(branchSelector('tickets', [EAST])).toEqual({
			$and: [{ visibleTo: { $elemMatch: { $in: [EAST] } } }]
		});
	});

	it('writes tickets of its scopes whose events and derived fields agree', () => {
		const doc = ticket([created()], '1-a');
		expect(refuseBranchWrites([doc], new Map(), rules)).toEqual([null]);
		expect(refuseBranchWrites([doc], new Map(), { ...rules, scopes: [WEST] })).toEqual([
			'the document would not be visible to you'
		]);
		const forged = { ...doc, status: 'closed' };
		expect(refuseBranchWrites([forged], new Map(), rules)[0]).toMatch(/not derived/);
		// An event the center holds arrives unchanged or not at all.
		const edited = ticket([{ ...created(), content: '改过' } as TicketEvent], '2-b', ['1-a']);
		expect(refuseBranchWrites([edited], held(doc), rules)).toEqual(['events are never changed']);
	});

	it('#13 every new event is by a user the branch serves, with the permission for it', () => {
		// A user of its department, and a member of its crew from another department.
		expect(refuseBranchWrites([ticket([created()], '1-a')], new Map(), rules)).toEqual([null]);
		const onServer = ticket([created()], '1-a');
		expect(
			refuseBranchWrites(
				[ticket([created(), comment('c1', 'user:fitter')], '2-b', ['1-a'])],
				held(onServer),
				rules
			)
		).toEqual([null]);
		// Someone the branch does not serve, someone who does not exist, a permission the author lacks.
		expect(
			refuseBranchWrites([ticket([created('user:west-agent')], '1-a')], new Map(), rules)
		).toEqual(['user:west-agent is not a user this branch serves']);
		expect(refuseBranchWrites([ticket([created('user:ghost')], '1-a')], new Map(), rules)).toEqual([
			'user:ghost is not a known user'
		]);
		expect(
			refuseBranchWrites([ticket([created('user:east-clerk')], '1-a')], new Map(), rules)
		).toEqual(['recording created needs ticket.create']);
		// Events the center already holds were checked when they arrived, whoever recorded them.
		const fromCenter = ticket([created('user:hq-agent')], '1-h');
		expect(
			refuseBranchWrites(
				[ticket([created('user:hq-agent'), comment('c1')], '2-b', ['1-h'])],
				held(fromCenter),
				rules
			)
		).toEqual([null]);
	});

	it('#13 deletes merged-away revisions, never an event and never the ticket', () => {
		const a = ticket([created(), comment('c1')], '2-a', ['1-o']);
		const b = ticket([created(), comment('c2')], '2-b', ['1-o']);
		const merged = ticket([created(), comment('c1'), comment('c2')], '3-m', ['2-a']);
		// The branch's resolver: the merged winner and the deletion of the loser, in one request.
		expect(refuseBranchWrites([merged, tombstone('3-x', '2-b')], held(a, b), rules)).toEqual([
			null,
			null
		]);
		// The deletion alone would lose c2, which is in no other live revision.
		expect(refuseBranchWrites([tombstone('3-x', '2-b')], held(a, b), rules)).toEqual([
			'a branch never deletes events: c2 of 2-b is in no other revision'
		]);
		// Once the center holds the merged revision, the deletion loses nothing.
		expect(refuseBranchWrites([tombstone('3-x', '2-b')], held(merged, b), rules)).toEqual([null]);
		// The last live revision: the ticket itself.
		expect(refuseBranchWrites([tombstone('3-x', '2-a')], held(a), rules)).toEqual([
			'a ticket is never deleted'
		]);
		// Two deletions relying on each other: the second finds nothing left to keep the events.
		const twin = ticket([created(), comment('c1')], '2-c', ['1-o']);
		expect(
			refuseBranchWrites([tombstone('3-x', '2-a'), tombstone('3-y', '2-c')], held(a, twin), rules)
		).toEqual([null, 'a ticket is never deleted']);
		expect(
			refuseBranchWrites([tombstone('3-x', '2-b')], held(a, b), { ...rules, scopes: [WEST] })
		).toEqual(['not visible to this branch']);
		expect(
			refuseBranchWrites([{ _id: 'att:t:1', _deleted: true }], new Map(), rules)[0]
		).not.toBeNull();
	});
});
