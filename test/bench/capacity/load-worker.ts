/**
 * One load process of the capacity benchmark (forked by `capacity.bench.ts`): it runs the simulated
 * devices it is given (`device.ts`) over one keep-alive HTTP agent, and for the agents among them takes a
 * call every BENCH_CALL_SECONDS while the coordinator says so — a look-up of the caller's earlier tickets
 * and of the subscriber, then a ticket recorded on the device (a share of them transferred to a department)
 * and pushed. It reports what it measured when asked: request latencies, the tickets it created, and when
 * each ticket reached each of its devices.
 */
import { readFileSync } from 'node:fs';
import { v7 as uuidv7 } from 'uuid';
import { normalizePhone } from '../../../src/lib/shared/phone';
import { buildTicket } from '../../../src/lib/shared/tickets/ticket';
import type { TicketEvent } from '../../../src/lib/shared/tickets/events';
import { RawDevice, type RequestKind } from './device';
import { createClient, type HttpClient } from './http';
import { CENTER, type BenchUser, type Checkpoints, type Mode } from './settings';

export interface DeviceSpec {
	name: string;
	user: BenchUser;
	cookie: string;
	start: 'now' | 0;
	events: boolean;
}

export interface Created {
	id: string;
	by: string;
	/** When the device recorded it (epoch ms). */
	at: number;
	/** The department it was transferred to, or null (closed at the center). */
	transferredTo: string | null;
}

export type ToWorker =
	| {
			type: 'init';
			index: number;
			url: string;
			mode: Mode;
			checkpoints: Checkpoints;
			callSeconds: number;
			transferShare: number;
			departments: string[];
			phonesFile: string;
	  }
	| { type: 'add'; devices: DeviceSpec[] }
	| { type: 'calls'; on: boolean }
	| { type: 'collect' }
	| { type: 'firstSync'; device: DeviceSpec; timeoutMs: number }
	| { type: 'stop' };

export interface Collected {
	type: 'collected';
	latencies: Partial<Record<RequestKind | 'history' | 'search', number[]>>;
	created: Created[];
	/** Per device, `[ticket id, arrival (epoch ms)]`. */
	arrivals: Record<string, [string, number][]>;
	errors: Record<string, number>;
	errorSamples: string[];
	calls: number;
}

export type FromWorker =
	| { type: 'ready' }
	/** A device is live: caught up, waiting on a long-poll (epoch ms). */
	| { type: 'live'; name: string; at: number }
	| Collected
	| { type: 'firstSync'; ms: number | null; docs: number };

let setup: Extract<ToWorker, { type: 'init' }>;
let client: HttpClient;
let callers: { phone: string; id: string }[] = [];
const devices = new Map<string, { device: RawDevice; spec: DeviceSpec }>();
const timers = new Map<string, ReturnType<typeof setTimeout>>();
let callsOn = false;

let latencies: Collected['latencies'] = {};
let created: Created[] = [];
let arrivals: Collected['arrivals'] = {};
let errors: Record<string, number> = {};
let errorSamples: string[] = [];
let calls = 0;

function latency(kind: keyof Collected['latencies'], ms: number) {
	(latencies[kind] ??= []).push(ms);
}
function failed(kind: string, message: string) {
	errors[kind] = (errors[kind] ?? 0) + 1;
	if (errorSamples.length < 20) errorSamples.push(`${kind}: ${message}`);
}

function send(message: FromWorker) {
	process.send!(message);
}

function startDevice(spec: DeviceSpec, record: boolean): RawDevice {
	const device = new RawDevice({
		name: spec.name,
		cookie: spec.cookie,
		client,
		mode: setup.mode,
		checkpoints: setup.checkpoints,
		start: spec.start,
		events: spec.events,
		hooks: {
			latency,
			failed,
			...(record
				? { arrived: (id: string, at: number) => (arrivals[spec.name] ??= []).push([id, at]) }
				: {})
		}
	});
	device.start();
	return device;
}

let counter = 0;
/** One call on an agent's device: look-ups, then a ticket recorded and pushed. */
async function call(spec: DeviceSpec, device: RawDevice) {
	calls += 1;
	const caller = callers[Math.floor(Math.random() * callers.length)]!;
	const get = async (kind: 'history' | 'search', path: string) => {
		const t0 = performance.now();
		try {
			const res = await client.send('GET', path, { cookie: spec.cookie });
			if (res.status === 200) latency(kind, performance.now() - t0);
			else failed(kind, `${res.status} ${res.text.slice(0, 200)}`);
		} catch (err) {
			failed(kind, (err as Error).message);
		}
	};
	await Promise.all([
		get(
			'history',
			`/api/tickets/history?phone=${encodeURIComponent(normalizePhone(caller.phone))}`
		),
		get(
			'search',
			`/api/customers/search?${new URLSearchParams({ q: caller.phone, field: 'phone', match: 'exact' })}`
		)
	]);
	if (device !== devices.get(spec.name)?.device) return;
	const now = new Date();
	const transferredTo =
		Math.random() < setup.transferShare
			? setup.departments[Math.floor(Math.random() * setup.departments.length)]!
			: null;
	counter += 1;
	const day = now.toISOString().slice(0, 10).replaceAll('-', '');
	const by = spec.user.id;
	const events: TicketEvent[] = [
		{
			id: uuidv7(),
			type: 'created',
			at: now.toISOString(),
			by,
			number: `${day}-W${setup.index}-${String(counter).padStart(5, '0')}`,
			callerNumber: caller.phone,
			customerIds: [caller.id],
			departmentId: CENTER,
			serviceTypeId: 'serviceType:repair',
			contentCategoryId: 'contentCategory:digital',
			content: '压测来电：机顶盒无信号',
			callbackRequired: true
		},
		transferredTo
			? {
					id: uuidv7(),
					type: 'transferred',
					at: new Date(now.getTime() + 1).toISOString(),
					by,
					toDepartmentId: transferredTo,
					flowId: null,
					note: ''
				}
			: {
					id: uuidv7(),
					type: 'closedAtCenter',
					at: new Date(now.getTime() + 1).toISOString(),
					by,
					note: ''
				}
	];
	const ticket = buildTicket(`ticket:${uuidv7()}`, events, CENTER);
	device.write(ticket);
	created.push({ id: ticket._id, by: spec.name, at: Date.now(), transferredTo });
}

function scheduleCalls() {
	for (const [name, { device, spec }] of devices) {
		if (spec.user.kind !== 'agent' || timers.has(name)) continue;
		const every = setup.callSeconds * 1000;
		// Calls come at random moments: each agent's first one anywhere in the first interval.
		const next = (delay: number) =>
			timers.set(
				name,
				setTimeout(() => {
					if (!callsOn) return;
					next(every);
					void call(spec, device);
				}, delay)
			);
		next(Math.random() * every);
	}
}

function stopCalls() {
	for (const t of timers.values()) clearTimeout(t);
	timers.clear();
}

process.on('message', (message: ToWorker) => {
	switch (message.type) {
		case 'init': {
			setup = message;
			client = createClient(message.url);
			callers = readFileSync(message.phonesFile, 'utf8')
				.split('\n')
				.filter(Boolean)
				.map((line) => {
					const [phone, id] = line.split('\t');
					return { phone: phone!, id: id! };
				});
			send({ type: 'ready' });
			break;
		}
		case 'add': {
			for (const spec of message.devices) {
				const device = startDevice(spec, true);
				devices.set(spec.name, { device, spec });
				void device.live.then((at) => send({ type: 'live', name: spec.name, at }));
			}
			break;
		}
		case 'calls': {
			callsOn = message.on;
			if (callsOn) scheduleCalls();
			else stopCalls();
			break;
		}
		case 'collect': {
			send({
				type: 'collected',
				latencies,
				created,
				arrivals,
				errors,
				errorSamples,
				calls
			});
			latencies = {};
			created = [];
			arrivals = {};
			errors = {};
			errorSamples = [];
			calls = 0;
			break;
		}
		case 'firstSync': {
			const t0 = performance.now();
			const device = startDevice(message.device, false);
			let timer: ReturnType<typeof setTimeout> | undefined;
			const timeout = new Promise<null>((resolve) => {
				timer = setTimeout(() => resolve(null), message.timeoutMs);
			});
			void Promise.race([device.live.then(() => performance.now() - t0), timeout]).then((ms) => {
				clearTimeout(timer);
				device.stop();
				send({ type: 'firstSync', ms, docs: device.pulledDocs });
			});
			break;
		}
		case 'stop': {
			stopCalls();
			for (const { device } of devices.values()) device.stop();
			client?.close();
			process.exit(0);
		}
	}
});
