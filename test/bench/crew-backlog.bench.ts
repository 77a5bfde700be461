/**
 * #6: a crew tablet back from 7 days offline uploads its backlog through `/sync/tickets` — comments on its
 * ~300 work orders (1,000 events, one local revision each) and 200 photos as attachment documents
 * (`att:<ticket>:<uuid>`, ~150 KB each, shaped as `attachPhoto` in src/lib/data/work-orders.ts makes them).
 * The device is an in-memory PouchDB in this process, the server and the embedded store too. Prints the
 * upload time, MB sent and documents per second, then checks the store. BENCH_TICKETS, BENCH_EVENTS,
 * BENCH_PHOTOS and BENCH_PHOTO_KB change the sizes; BENCH_ATT_NAME the attachment's name (the server takes
 * only `photo`).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { PouchDB, device, syncRemote } from '../helpers/pouch';
import { mulberry32 } from '../helpers/offline-merge';
import { ADMIN_PASSWORD, startTestServer } from '../helpers/server';
import { buildTicket, type TicketDoc } from '../../src/lib/shared/tickets/ticket';
import type { TicketEvent } from '../../src/lib/shared/tickets/events';
import { PUSH_BATCH_SIZE } from '../../src/lib/shared/tickets/sync-limits';
import type { AttachmentDoc } from '../../src/lib/shared/tickets/attachment';

const TICKETS = Number(process.env.BENCH_TICKETS ?? 300);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 1_000);
const PHOTOS = Number(process.env.BENCH_PHOTOS ?? 200);
const PHOTO_BYTES = Number(process.env.BENCH_PHOTO_KB ?? 150) * 1024;
const ATT_NAME = process.env.BENCH_ATT_NAME ?? 'photo';
// As the browser pushes (src/lib/replication/tickets-db.ts); BENCH_PUSH_BATCH compares other sizes.
const BATCH_SIZE = Number(process.env.BENCH_PUSH_BATCH ?? PUSH_BATCH_SIZE);
const CENTER = 'department:center';
const CREW_DEPARTMENT = 'department:engineering-install';
const DAY_MS = 86_400_000;

type AttDoc = AttachmentDoc<string, string>;

const rng = mulberry32(6);
const server = await startTestServer();
const tablet = device<TicketDoc | AttDoc>(`crew-tablet-${Date.now()}`);
try {
	await server.createUser({ username: 'crewagent', roleKey: 'agent' });
	const crewCookie = await server.createUser({
		username: 'crewmember',
		roleKey: 'crew',
		departmentId: CREW_DEPARTMENT
	});
	const crew = 'user:crewmember';
	const agent = 'user:crewagent';
	const admin = await server.signIn('admin', ADMIN_PASSWORD);
	const created = await fetch(`${server.url}/api/admin/config/crew`, {
		method: 'POST',
		headers: { 'content-type': 'application/json', cookie: admin },
		body: JSON.stringify({ name: '一队', departmentId: CREW_DEPARTMENT, memberIds: [crew] })
	});
	if (created.status !== 201) throw new Error(`crew: ${created.status} ${await created.text()}`);
	const crewId = ((await created.json()) as { item: { _id: string } }).item._id;

	// The work orders: recorded at the center 8 days ago and dispatched to the crew.
	const t0 = Date.now() - 8 * DAY_MS;
	const ticketIds: string[] = [];
	const seeded: TicketDoc[] = [];
	for (let i = 0; i < TICKETS; i++) {
		const id = `ticket:wo-${String(i).padStart(4, '0')}`;
		ticketIds.push(id);
		const at = new Date(t0 + i * 1_000).toISOString();
		const events: TicketEvent[] = [
			{
				id: `wo-${i}-created`,
				type: 'created',
				at,
				by: agent,
				number: `WO-${i}`,
				callerNumber: `1390000${String(i).padStart(4, '0')}`,
				customerIds: [],
				departmentId: CENTER,
				serviceTypeId: 'serviceType:repair',
				contentCategoryId: null,
				content: `上门维修 ${i}`,
				callbackRequired: true
			},
			{
				id: `wo-${i}-dispatched`,
				type: 'dispatched',
				at,
				by: agent,
				crewId,
				from: at,
				to: new Date(t0 + i * 1_000 + 7 * DAY_MS).toISOString(),
				note: '上门维修',
				customers: [
					{
						id: `customer:${i}`,
						name: `用户${i}`,
						address: `文三路 ${i} 号`,
						phones: ['13900000000']
					}
				]
			}
		];
		seeded.push(buildTicket(id, events, CENTER));
	}
	await server.runtime.store.db<TicketDoc>('tickets').bulkDocs(seeded);

	// Online once: the tablet receives its work orders.
	const pullStarted = performance.now();
	const pulled = await tablet.replicate.from(syncRemote(server.url, 'tickets', crewCookie), {
		batch_size: 500 // the browser's pull batch
	});
	const pullMs = performance.now() - pullStarted;

	// 7 days offline: comments on the work orders (one local revision each) and photos.
	const weekStart = Date.now() - 7 * DAY_MS;
	const times = Array.from(
		{ length: EVENTS },
		() => weekStart + Math.floor(rng() * 7 * DAY_MS)
	).sort((a, b) => a - b);
	for (const [n, time] of times.entries()) {
		// Every work order gets at least one comment; the rest fall on random ones.
		const id = n < TICKETS ? ticketIds[n]! : ticketIds[Math.floor(rng() * TICKETS)]!;
		const doc = (await tablet.get(id)) as TicketDoc;
		const comment: TicketEvent = {
			id: `wo-comment-${n}`,
			type: 'comment',
			at: new Date(time).toISOString(),
			by: crew,
			text: `现场记录 ${n}：已检查线路与机顶盒`
		};
		await tablet.put(buildTicket(id, [...doc.events, comment], CENTER, doc._rev));
	}
	let photoBytes = 0;
	const now = new Date().toISOString();
	for (let n = 0; n < PHOTOS; n++) {
		const ticketId = ticketIds[Math.floor(rng() * TICKETS)]!;
		const data = randomBytes(PHOTO_BYTES).toString('base64');
		photoBytes += PHOTO_BYTES;
		const att: AttDoc = {
			_id: `att:${ticketId}:${randomUUID()}`,
			type: 'att',
			ticketId,
			by: crew,
			at: new Date(weekStart + Math.floor(rng() * 7 * DAY_MS)).toISOString(),
			updatedAt: now,
			visibleTo: [crew, crewId],
			_attachments: { [ATT_NAME]: { content_type: 'image/jpeg', data } }
		};
		await tablet.put(att);
	}

	// Reconnect: upload through /sync/tickets, counting what goes over the wire.
	let sentBytes = 0;
	let requests = 0;
	const statuses = new Map<string, number>();
	const remote = new PouchDB<TicketDoc | AttDoc>(`${server.url}/sync/tickets`, {
		skip_setup: true,
		fetch: async (url: string | Request, opts?: RequestInit) => {
			const headers = new Headers(opts?.headers);
			headers.set('cookie', crewCookie);
			requests++;
			if (typeof opts?.body === 'string') sentBytes += Buffer.byteLength(opts.body);
			const res = await PouchDB.fetch(url, { ...opts, headers });
			const key = `${opts?.method ?? 'GET'} ${new URL(String(url)).pathname.split('/').at(-1)} ${res.status}`;
			statuses.set(key, (statuses.get(key) ?? 0) + 1);
			return res;
		}
	} as PouchDB.Configuration.RemoteDatabaseConfiguration);
	const docs = (await tablet.info()).doc_count;
	const started = performance.now();
	let result: PouchDB.Replication.ReplicationResultComplete<TicketDoc | AttDoc> | null = null;
	let failure: string | null = null;
	try {
		result = await tablet.replicate.to(remote, { batch_size: BATCH_SIZE });
	} catch (err) {
		failure = `${(err as { status?: number }).status ?? ''} ${(err as Error).message}`;
	}
	const ms = performance.now() - started;

	// What the store holds now.
	const onServer = await server.runtime.store
		.db<(TicketDoc | AttDoc) & { _attachments?: object }>('tickets')
		.allDocs({ include_docs: true });
	const storedComments = onServer.rows
		.flatMap((r) => (r.doc && 'events' in r.doc ? r.doc.events : []))
		.filter((e) => e.type === 'comment').length;
	const storedPhotos = onServer.rows.filter(
		(r) => r.id.startsWith('att:') && r.doc?._attachments && ATT_NAME in r.doc._attachments
	).length;

	const mb = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
	console.log(
		[
			`crew backlog: ${TICKETS} work orders, ${EVENTS} comment events offline (one revision each), ` +
				`${PHOTOS} photos × ${PHOTO_BYTES / 1024} KB (${mb(photoBytes)} MB)`,
			`  first pull of the work orders   ${pulled.docs_written} docs in ${pullMs.toFixed(0)} ms`,
			`  upload on reconnect             ${(ms / 1000).toFixed(2)} s, ${docs} docs` +
				(failure ? ' (failed)' : `, ${(docs / (ms / 1000)).toFixed(0)} docs/s`),
			`  sent                            ${mb(sentBytes)} MB in ${requests} requests (${(sentBytes / 1024 / 1024 / (ms / 1000)).toFixed(1)} MB/s)`,
			`  result                          ${failure ? `FAILED: ${failure}` : `docs_written ${result!.docs_written}, doc_write_failures ${result!.doc_write_failures}`}`,
			...(result && result.errors.length > 0
				? [`  refusals                        ${JSON.stringify(result.errors.slice(0, 3))}`]
				: []),
			`  requests                        ${[...statuses].map(([k, n]) => `${k} ×${n}`).join(', ')}`,
			`  on the server                   ${storedComments}/${EVENTS} comments, ${storedPhotos}/${PHOTOS} photos`
		].join('\n')
	);
	process.exitCode = !failure && storedComments === EVENTS && storedPhotos === PHOTOS ? 0 : 1;
} finally {
	await tablet.destroy();
	await server.close();
}
