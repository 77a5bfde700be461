import { describe, expect, it } from 'vitest';
import { readServerEvent, SERVER_EVENTS, type ServerEvent } from './events';

/** An event as the server writes it on the stream: its name and its JSON `data` line. */
const wire = (e: ServerEvent) => [e.event, JSON.stringify(e.data)] as const;

const OFFER = {
	callId: 'call-1@carrier',
	caller: '+8657188886666',
	hotline: '96000',
	customers: [
		{
			_id: 'digital:POP1',
			source: 'digital',
			account: 'POP1',
			name: '来电用户',
			phones: ['057188886666'],
			address: '杭州市西湖区',
			area: '',
			smartCard: '',
			stbSerial: '',
			products: [],
			status: '正常'
		}
	],
	history: [
		{
			_id: 'ticket:1',
			number: '20261125-001-0042',
			status: 'new',
			departmentId: 'department:center',
			serviceTypeId: null,
			contentCategoryId: null,
			callerNumber: '0571-88886666',
			createdBy: 'user:admin',
			createdAt: '2026-11-25T02:00:00.000Z',
			events: [
				{
					id: 'e0',
					type: 'created',
					at: '2026-11-25T02:00:00.000Z',
					by: 'user:admin',
					number: '20261125-001-0042',
					callerNumber: '0571-88886666',
					customerIds: [],
					departmentId: 'department:center',
					serviceTypeId: null,
					contentCategoryId: null,
					content: '机顶盒无信号',
					callbackRequired: false
				}
			]
		}
	]
} satisfies Extract<ServerEvent, { event: 'offer' }>['data'];

describe('#14 the event stream read by its schema', () => {
	it('reads every event the server sends as it was built', () => {
		const sent: ServerEvent[] = [
			{ event: 'hello', data: { user: 'user:agent' } },
			{ event: 'signedOut', data: { why: 'revoked' } },
			{ event: 'offer', data: OFFER },
			{ event: 'state', data: { state: 'ringing', reason: '', since: 1, callId: 'call-1@carrier' } }
		];
		expect(sent.map((e) => e.event).sort()).toEqual([...SERVER_EVENTS].sort());
		for (const e of sent) expect(readServerEvent(...wire(e))).toEqual(e);
	});

	it('refuses an event of another shape, an unknown name or a data line that is not JSON', () => {
		const { callId: _, ...noCallId } = OFFER;
		expect(readServerEvent('offer', JSON.stringify(noCallId))).toBeNull();
		expect(
			readServerEvent(
				'state',
				JSON.stringify({ state: 'dancing', reason: '', since: 1, callId: null })
			)
		).toBeNull();
		expect(readServerEvent('state', JSON.stringify(OFFER))).toBeNull();
		expect(readServerEvent('signedOut', JSON.stringify({ why: 'bored' }))).toBeNull();
		expect(readServerEvent('party', JSON.stringify({}))).toBeNull();
		expect(readServerEvent('hello', '{"user":')).toBeNull();
	});
});
