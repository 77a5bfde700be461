/**
 * F5 "paging that stays fast with thousands of users": times the user list API (search, filter, sort,
 * page) over N accounts in the embedded store. Run with `npm run bench`; prints its figures.
 */
import { performance } from 'node:perf_hooks';
import { startTestServer } from '../helpers/server';

const USERS = Number(process.env.BENCH_USERS ?? 5_000);
const RUNS = 10;

const server = await startTestServer();
try {
	const users = server.runtime.store.db('users');
	const now = new Date().toISOString();
	const departments = [
		'department:center',
		'department:engineering',
		'department:network',
		'department:billing'
	];
	for (let start = 0; start < USERS; start += 1_000) {
		const docs = Array.from({ length: Math.min(1_000, USERS - start) }, (_, k) => {
			const i = start + k;
			return {
				_id: `user:bench${i}`,
				type: 'user',
				username: `bench${i}`,
				name: `测试用户${i}`,
				departmentId: departments[i % departments.length],
				birthDate: '1990-01-01',
				phone: `138${String(i).padStart(8, '0')}`,
				email: '',
				status: i % 10 === 0 ? 'disabled' : 'active',
				roleId: 'role:agent',
				permissions: [],
				agentId: String(10_000 + i),
				passwordHash: 'x',
				mustChangePassword: false,
				createdAt: now,
				updatedAt: now
			};
		});
		await users.bulkDocs(docs);
	}
	const cookie = await server.signIn('admin', 'integration-admin');
	const queries = {
		'first page, by user name': 'sort=username&pageSize=50',
		'page 40, by department desc': 'sort=department&dir=desc&page=40&pageSize=50',
		'search "1234"': 'q=1234&pageSize=50',
		'filter department + state': 'departmentId=department%3Anetwork&status=active&pageSize=50'
	};
	console.log(
		`User list over ${USERS} accounts, ${RUNS} runs each (embedded store, this machine):`
	);
	for (const [label, query] of Object.entries(queries)) {
		const times: number[] = [];
		for (let r = 0; r < RUNS; r++) {
			const t0 = performance.now();
			const res = await fetch(`${server.url}/api/users?${query}`, { headers: { cookie } });
			await res.json();
			times.push(performance.now() - t0);
		}
		times.sort((a, b) => a - b);
		console.log(
			`  ${label.padEnd(32)} median ${times[RUNS >> 1]!.toFixed(1)} ms   max ${times.at(-1)!.toFixed(1)} ms`
		);
	}
} finally {
	await server.close();
}
