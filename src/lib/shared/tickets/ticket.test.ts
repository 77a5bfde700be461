import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
	attachmentVisibleTo,
	buildTicket,
	deriveTicket,
	mergeTickets,
	nextEventTime,
	type TicketDoc
} from './ticket';
import { WORK_STEPS, type TicketEvent, type WorkOrderCustomer } from './events';

const CENTER = 'department:center';
const created = (over: Partial<Extract<TicketEvent, { type: 'created' }>> = {}): TicketEvent => ({
	id: 'e0',
	type: 'created',
	at: '2026-01-01T08:00:00.000Z',
	by: 'user:agent1',
	number: '20260101-A1-0001',
	callerNumber: '13800000000',
	customerIds: [],
	departmentId: CENTER,
	serviceTypeId: 'serviceType:repair',
	contentCategoryId: null,
	content: '无信号',
	callbackRequired: false,
	...over
});
const at = (minute: number) => `2026-01-01T08:${String(minute).padStart(2, '0')}:00.000Z`;

describe('deriveTicket', () => {
	it('F28 a work order follows its crew’s steps, shows the crew the ticket, and restarts on a new dispatch', () => {
		const dispatch = (id: string, minute: number, crewId: string): TicketEvent => ({
			id,
			type: 'dispatched',
			at: at(minute),
			by: 'user:clerk',
			crewId,
			from: at(30),
			to: at(50),
			note: '',
			customers: [{ id: 'c', name: '王', address: '文三路', phones: [] }]
		});
		const step = (id: string, minute: number, s: 'accepted' | 'failed' | 'done'): TicketEvent => ({
			id,
			type: 'workStep',
			at: at(minute),
			by: 'user:fitter',
			step: s,
			...(s === 'failed' ? { reason: '客户不在家' } : {})
		});
		const first = [
			created(),
			dispatch('e1', 1, 'crew:a'),
			step('e2', 2, 'accepted'),
			step('e3', 3, 'failed')
		];
		expect(deriveTicket(first, CENTER).workOrder).toMatchObject({
			crewId: 'crew:a',
			step: 'failed',
			finishedAt: at(3)
		});
		const again = deriveTicket([...first, dispatch('e4', 4, 'crew:b')], CENTER);
		expect(again.workOrder).toMatchObject({
			crewId: 'crew:b',
			step: 'dispatched',
			finishedAt: null
		});
		expect(again.visibleTo).toEqual(expect.arrayContaining(['crew:a', 'crew:b']));
		expect(deriveTicket([created()], CENTER).workOrder).toBeNull();
	});

	it('a new ticket is at the center, visible to its author and the center', () => {
		expect(deriveTicket([created()], CENTER)).toMatchObject({
			status: 'new',
			departmentId: CENTER,
			visibleTo: [CENTER, 'user:agent1'].sort()
		});
	});

	it('中心处理 closes at once, or waits for the callback when the service type needs one', () => {
		const close: TicketEvent = {
			id: 'e1',
			type: 'closedAtCenter',
			at: at(1),
			by: 'user:agent1',
			note: ''
		};
		expect(deriveTicket([created(), close], CENTER).status).toBe('closed');
		const needs = [created({ callbackRequired: true }), close];
		expect(deriveTicket(needs, CENTER).status).toBe('callback');
		const callback: TicketEvent = {
			id: 'e2',
			type: 'callback',
			at: at(2),
			by: 'user:agent1',
			satisfaction: 'satisfied',
			note: ''
		};
		expect(deriveTicket([...needs, callback], CENTER).status).toBe('closed');
	});

	it('移交执行 moves it to the department, which sees it from then on, and back to the center', () => {
		const transfer: TicketEvent = {
			id: 'e1',
			type: 'transferred',
			at: at(1),
			by: 'user:agent1',
			toDepartmentId: 'department:network',
			flowId: 'flow:f',
			note: ''
		};
		const moved = deriveTicket([created(), transfer], CENTER);
		expect(moved).toMatchObject({
			status: 'atDepartment',
			departmentId: 'department:network',
			flowId: 'flow:f'
		});
		expect(moved.visibleTo).toContain('department:network');
		const next: TicketEvent = {
			id: 'e2',
			type: 'handled',
			at: at(2),
			by: 'user:net1',
			departmentId: 'department:network',
			note: '已检修',
			nextDepartmentId: 'department:engineering'
		};
		const back: TicketEvent = {
			id: 'e3',
			type: 'handled',
			at: at(3),
			by: 'user:eng1',
			departmentId: 'department:engineering',
			note: '已更换',
			nextDepartmentId: null
		};
		const done = deriveTicket([created(), transfer, next, back], CENTER);
		expect(done).toMatchObject({ status: 'closed', departmentId: CENTER, updatedAt: at(3) });
		expect(done.visibleTo).toEqual(
			expect.arrayContaining([
				'department:network',
				'department:engineering',
				'user:net1',
				'user:eng1'
			])
		);
	});
});

describe('attachmentVisibleTo', () => {
	it('#13 a photo is visible to its author and the crew the work order had gone to when it was taken', () => {
		const dispatch = (id: string, minute: number, crewId: string): TicketEvent => ({
			id,
			type: 'dispatched',
			at: at(minute),
			by: 'user:clerk',
			crewId,
			from: at(30),
			to: at(50),
			note: '',
			customers: []
		});
		const events = [created(), dispatch('e1', 1, 'crew:a'), dispatch('e2', 5, 'crew:b')];
		expect(attachmentVisibleTo(events, 'user:fitter', at(3))).toEqual(['crew:a', 'user:fitter']);
		expect(attachmentVisibleTo(events, 'user:fitter', at(6))).toEqual(['crew:b', 'user:fitter']);
		// Whatever order the events come in, and before any dispatch: the author alone.
		expect(attachmentVisibleTo([...events].reverse(), 'user:fitter', at(6))).toEqual([
			'crew:b',
			'user:fitter'
		]);
		expect(attachmentVisibleTo(events, 'user:agent1', at(0))).toEqual(['user:agent1']);
	});
});

// Property tests: any set of events, split across replicas in any way, merges to the same ticket.
const eventArb: fc.Arbitrary<TicketEvent> = fc.oneof(
	fc.record({
		id: fc.uuid(),
		type: fc.constant('transferred' as const),
		at: fc.integer({ min: 1, max: 59 }).map(at),
		by: fc.constantFrom('user:a', 'user:b', 'user:c'),
		toDepartmentId: fc.constantFrom('department:x', 'department:y'),
		flowId: fc.constant(null),
		note: fc.string({ maxLength: 5 })
	}),
	fc.record({
		id: fc.uuid(),
		type: fc.constant('comment' as const),
		at: fc.integer({ min: 1, max: 59 }).map(at),
		by: fc.constantFrom('user:a', 'user:b'),
		text: fc.string({ minLength: 1, maxLength: 5 })
	}),
	fc.record({
		id: fc.uuid(),
		type: fc.constant('handled' as const),
		at: fc.integer({ min: 1, max: 59 }).map(at),
		by: fc.constantFrom('user:x1', 'user:y1'),
		departmentId: fc.constantFrom('department:x', 'department:y'),
		note: fc.constant('处理'),
		nextDepartmentId: fc.constantFrom(null, 'department:y')
	}),
	fc.record({
		id: fc.uuid(),
		type: fc.constant('dispatched' as const),
		at: fc.integer({ min: 1, max: 59 }).map(at),
		by: fc.constantFrom('user:x1', 'user:y1'),
		crewId: fc.constantFrom('crew:a', 'crew:b'),
		from: fc.constant('2026-01-02T08:00:00.000Z'),
		to: fc.constant('2026-01-02T10:00:00.000Z'),
		note: fc.constant(''),
		customers: fc.constant(null).map((): WorkOrderCustomer[] => [])
	}),
	fc
		.record({
			id: fc.uuid(),
			type: fc.constant('workStep' as const),
			at: fc.integer({ min: 1, max: 59 }).map(at),
			by: fc.constant('user:fitter'),
			step: fc.constantFrom(...WORK_STEPS)
		})
		// Could not complete: with the reason a crew must give.
		.map((e) => (e.step === 'failed' ? { ...e, reason: '客户不在家' } : e)),
	fc.record({
		id: fc.uuid(),
		type: fc.constant('closedAtCenter' as const),
		at: fc.integer({ min: 1, max: 59 }).map(at),
		by: fc.constantFrom('user:a'),
		note: fc.constant('')
	}),
	fc.record({
		id: fc.uuid(),
		type: fc.constant('closed' as const),
		at: fc.integer({ min: 1, max: 59 }).map(at),
		by: fc.constantFrom('user:lead'),
		reason: fc.constant('重复')
	})
);
const replicaArb = fc
	.array(eventArb, { maxLength: 8 })
	.map((events) => buildTicket('ticket:1', [created(), ...events], CENTER));
const comparable = (t: TicketDoc) => ({ ...t, _rev: undefined });

describe('mergeTickets (union of events)', () => {
	it('#17 gives one coherent state: a resolved or closed ticket has no crew still sent out', () => {
		fc.assert(
			fc.property(replicaArb, replicaArb, (a, b) => {
				const merged = mergeTickets(a, b, CENTER);
				if ((merged.status === 'closed' || merged.status === 'callback') && merged.workOrder) {
					expect(merged.workOrder.finishedAt).not.toBeNull();
				}
				// An open work order is one the crew can still act on; a finished one says how it ended.
				if (merged.workOrder && !merged.workOrder.finishedAt) {
					expect(['dispatched', 'accepted', 'onTheWay', 'onSite']).toContain(merged.workOrder.step);
				}
				if (merged.workOrder?.finishedAt) {
					expect(['done', 'failed', 'cancelled']).toContain(merged.workOrder.step);
				}
			}),
			{ numRuns: 500 }
		);
	});

	it('is commutative', () => {
		fc.assert(
			fc.property(replicaArb, replicaArb, (a, b) => {
				expect(comparable(mergeTickets(a, b, CENTER))).toEqual(
					comparable(mergeTickets(b, a, CENTER))
				);
			}),
			{ numRuns: 200 }
		);
	});

	it('is associative', () => {
		fc.assert(
			fc.property(replicaArb, replicaArb, replicaArb, (a, b, c) => {
				const left = mergeTickets(mergeTickets(a, b, CENTER), c, CENTER);
				const right = mergeTickets(a, mergeTickets(b, c, CENTER), CENTER);
				expect(comparable(left)).toEqual(comparable(right));
			}),
			{ numRuns: 200 }
		);
	});

	it('is idempotent and keeps every event of both sides', () => {
		fc.assert(
			fc.property(replicaArb, replicaArb, (a, b) => {
				expect(comparable(mergeTickets(a, a, CENTER))).toEqual(comparable(a));
				const merged = mergeTickets(a, b, CENTER);
				const ids = new Set(merged.events.map((e) => e.id));
				for (const e of [...a.events, ...b.events]) expect(ids.has(e.id)).toBe(true);
				for (const scope of [...a.visibleTo, ...b.visibleTo]) {
					expect(merged.visibleTo).toContain(scope);
				}
			}),
			{ numRuns: 200 }
		);
	});
});

describe('#13 nextEventTime', () => {
	it('is now, or a millisecond after the latest event when this clock is behind', () => {
		const events = [{ at: '2026-11-30T10:00:00.000Z' }, { at: '2026-11-30T10:05:00.000Z' }];
		expect(nextEventTime(events, new Date('2026-11-30T11:00:00.000Z')).toISOString()).toBe(
			'2026-11-30T11:00:00.000Z'
		);
		expect(nextEventTime(events, new Date('2026-11-30T10:04:00.000Z')).toISOString()).toBe(
			'2026-11-30T10:05:00.001Z'
		);
		expect(nextEventTime([], new Date(5)).getTime()).toBe(5);
	});
});
