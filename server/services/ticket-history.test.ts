import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { TicketDoc } from '#shared/tickets/ticket';
import type { Change } from '../store/follow';
import type { Store } from '../store';
import { openTicketHistory } from './ticket-history';
import { createTicketReads } from './tickets';

const dirs: string[] = [];
afterEach(() => {
	for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function openIndex() {
	const dir = mkdtempSync(join(tmpdir(), 'ticket-history-'));
	dirs.push(dir);
	return openTicketHistory(join(dir, 'ticket-history.sqlite'));
}

const ticket = (n: number, over: Partial<TicketDoc> = {}): TicketDoc =>
	({
		_id: `ticket:${n}`,
		_rev: '1-a',
		type: 'ticket',
		number: `T${n}`,
		status: 'closed',
		departmentId: null,
		flowId: null,
		serviceTypeId: 'st:fault',
		contentCategoryId: null,
		callerNumber: '0571 8888 1234',
		callerKey: '057188881234',
		customerIds: [],
		createdAt: `2026-11-${String(n).padStart(2, '0')}T08:00:00.000Z`,
		createdBy: 'user:agent1',
		updatedAt: `2026-11-${String(n).padStart(2, '0')}T08:00:00.000Z`,
		visibleTo: ['dept:center'],
		workOrder: null,
		events: [],
		...over
	}) as TicketDoc;
const changed = (doc: TicketDoc): Change<TicketDoc> => ({
	id: doc._id,
	seq: '1',
	changes: [{ rev: doc._rev! }],
	doc
});

describe('F17 the server’s ticket history index (issue #15)', () => {
	it('finds a caller’s and a subscriber’s tickets, newest first, each once', () => {
		const index = openIndex();
		index.apply(
			[
				changed(ticket(3)),
				changed(ticket(7, { customerIds: ['customer:digital:9'] })),
				changed(ticket(5, { callerKey: '13900000000', customerIds: ['customer:digital:9'] }))
			],
			'3'
		);
		const found = index.find({
			phone: '057188881234',
			customerIds: ['customer:digital:9'],
			limit: 10
		});
		expect(found.map((t) => t._id)).toEqual(['ticket:7', 'ticket:5', 'ticket:3']);
		expect(found[0]).toMatchObject({ number: 'T7', serviceTypeId: 'st:fault', events: [] });
		expect(index.seq()).toBe('3');
		index.close();
	});

	it('follows a ticket’s new caller and subscribers, forgets a deleted one, keeps the newest within the limit', () => {
		const index = openIndex();
		index.apply(
			[1, 2, 3, 4].map((n) => changed(ticket(n))),
			'4'
		);
		// Ticket 4 now belongs to another number; ticket 3 was deleted.
		index.apply(
			[
				changed(ticket(4, { _rev: '2-b', callerKey: '13900000000' })),
				{ id: 'ticket:3', seq: '6', changes: [{ rev: '2-c' }], deleted: true }
			],
			'6'
		);
		expect(
			index.find({ phone: '057188881234', customerIds: [], limit: 10 }).map((t) => t._id)
		).toEqual(['ticket:2', 'ticket:1']);
		expect(
			index.find({ phone: '057188881234', customerIds: [], limit: 1 }).map((t) => t._id)
		).toEqual(['ticket:2']);
		expect(
			index.find({ phone: '13900000000', customerIds: [], limit: 10 }).map((t) => t._id)
		).toEqual(['ticket:4']);
		expect(index.count()).toBe(3);
		// A stored ticket missing what the index reads (the store holds what devices wrote) does not stop it.
		const bad = { _id: 'ticket:bad', _rev: '1-x', type: 'ticket', customerIds: 'x' } as never;
		index.apply([changed(bad), changed(ticket(8))], '8');
		expect(index.seq()).toBe('8');
		expect(index.count()).toBe(5);
		index.reset();
		expect(index.count()).toBe(0);
		expect(index.seq()).toBe('0');
		index.close();
	});

	it('answers from the index when it has an answer, and from the store’s views otherwise', async () => {
		const views: string[] = [];
		const store = {
			db: () => ({
				view: (name: string) => {
					views.push(name);
					return Promise.resolve({ rows: [{ id: 'ticket:1', doc: ticket(1) }] });
				}
			})
		} as unknown as Store;
		let answer: ReturnType<ReturnType<typeof openIndex>['find']> | null = [];
		const reads = createTicketReads({
			store,
			configAdmin: { crewsOf: () => Promise.resolve([]) },
			history: { find: () => Promise.resolve(answer) }
		});
		answer = [{ ...ticket(2), _rev: undefined } as never];
		const fromIndex = await reads.history({ phone: '057188881234', limit: 10 });
		expect(fromIndex.map((t) => t._id)).toEqual(['ticket:2']);
		expect(views).toEqual([]);
		// Still being built, or behind by more than a second: the views answer.
		answer = null;
		const fromViews = await reads.history({ phone: '057188881234', limit: 10 });
		expect(fromViews.map((t) => t._id)).toEqual(['ticket:1']);
		expect(views).toEqual(['tickets_by_caller']);
	});
});
