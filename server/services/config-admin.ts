/**
 * Changes to the configuration (departments, roles, crews, flows, phrases, catalogues) — the only writer of
 * `cc_config` besides the first-start seed. Every change is validated, refused with a reason when it would
 * break something (a department that still holds users or tickets, a flow in use …), checked against the
 * revision the editor started from (no silent overwrite), and recorded in the audit log with before/after.
 * Browsers receive the result through replication.
 */
import { randomUUID } from 'node:crypto';
import {
	subtreeIds,
	type ConfigDoc,
	type ConfigType,
	type CrewDoc,
	type DepartmentDoc,
	type VoiceMenuDoc
} from '#shared/docs/config';
import { isPermission, type Permission } from '#shared/permissions';
import { voiceMenuProblems } from '#shared/voice-menu';
import { AppError, storeStatus } from '../errors';
import type { Store } from '../store';
import type { Audit } from './audit';
import type { UserDoc } from './accounts';
import type { KnownIds } from './ticket-access';
import type { ConfigIndex } from './config-index';

/** Which permission administers which kind of configuration. */
export const CONFIG_PERMISSION: Record<ConfigType, Permission> = {
	department: 'admin.departments',
	crew: 'admin.departments',
	role: 'admin.roles',
	flow: 'admin.flows',
	phrase: 'admin.phrases',
	serviceType: 'admin.catalogues',
	contentCategory: 'admin.catalogues',
	voiceMenu: 'admin.ivr',
	notice: 'notice.publish'
};

type Input = Record<string, unknown> & { name: string };

const sameName = (a: string, b: string) =>
	a.normalize('NFKC').trim().toLowerCase() === b.normalize('NFKC').trim().toLowerCase();

const invalid = (field: string, code: string, message: string) =>
	new AppError('validation', 400, message, { field, issues: { [field]: code } });

export function createConfigAdmin({
	store,
	audit,
	index
}: {
	store: Store;
	audit: Audit;
	/** The configuration in memory (crews by member); told of each write here at once. */
	index: ConfigIndex;
}) {
	const db = store.db<ConfigDoc>('config');
	const users = store.db<UserDoc>('users');

	async function all<T extends ConfigDoc>(type: ConfigType): Promise<T[]> {
		const res = await db.allDocs({
			startkey: `${type}:`,
			endkey: `${type}:\ufff0`,
			include_docs: true
		});
		return res.rows.flatMap((r) => (r.doc && r.doc.type === type ? [r.doc as T] : []));
	}

	async function get<T extends ConfigDoc>(type: ConfigType, id: string): Promise<T> {
		try {
			const doc = await db.get(id);
			if (doc.type === type) return doc as T;
		} catch (err) {
			if (storeStatus(err) !== 404) throw err;
		}
		throw new AppError('not_found', 404, `No ${type} ${id}`);
	}

	const countIn = async (target: 'tickets' | 'users', view: string, key: string) =>
		(await store.db(target).view(view, { key, limit: 1000 })).rows.length;

	/** Checks that need the rest of the configuration; throws a field error when the input breaks a rule. */
	async function checkRules(
		type: ConfigType,
		input: Input,
		id: string | null,
		current: ConfigDoc | null
	) {
		const siblings = (await all(type)).filter((d) => d._id !== id);
		const clash =
			type === 'department'
				? siblings.some(
						(d) => (d as DepartmentDoc).parentId === input.parentId && sameName(d.name, input.name)
					)
				: siblings.some((d) => sameName(d.name, input.name));
		if (clash) throw invalid('name', 'name_taken', `A ${type} named ${input.name} exists`);

		if (type === 'voiceMenu') {
			const menu = input as unknown as VoiceMenuDoc;
			const problems = voiceMenuProblems(menu);
			const taken = menu.hotlines.find((h) =>
				siblings.some((d) => (d as VoiceMenuDoc).hotlines.includes(h))
			);
			if (taken) problems.hotlines ??= 'hotline_taken';
			const field = Object.keys(problems)[0];
			if (field) {
				throw new AppError(
					'validation',
					400,
					`The voice menu is not sound: ${JSON.stringify(problems)}`,
					{
						field,
						issues: problems
					}
				);
			}
		}
		if (
			type === 'notice' &&
			Date.parse(String(input.endsAt)) <= Date.parse(String(input.startsAt))
		) {
			throw invalid('endsAt', 'notice_range', 'A notice ends after it starts');
		}
		if (type === 'role') {
			if (current && current.name !== input.name) {
				throw invalid('name', 'role_name_fixed', 'A role keeps its name');
			}
			const unknown = (input.permissions as string[]).find((p) => !isPermission(p));
			if (unknown) throw invalid('permissions', 'invalid', `Unknown permission ${unknown}`);
		}
		if (type === 'department') {
			const departments = await all<DepartmentDoc>('department');
			const parentId = input.parentId as string | null;
			if (parentId !== null && !departments.some((d) => d._id === parentId)) {
				throw invalid('parentId', 'department_unknown', 'Unknown parent department');
			}
			if (id && parentId !== null && subtreeIds(departments, id).has(parentId)) {
				throw invalid('parentId', 'department_cycle', 'A department cannot move under itself');
			}
		}
		if (type === 'crew' || type === 'flow') {
			const departments = new Set((await all('department')).map((d) => d._id));
			const wanted =
				type === 'crew' ? [input.departmentId as string] : (input.departmentIds as string[]);
			if (wanted.some((d) => !departments.has(d))) {
				throw invalid(
					type === 'crew' ? 'departmentId' : 'departmentIds',
					'department_unknown',
					'Unknown department'
				);
			}
			if (type === 'flow' && wanted.some((d, i) => i > 0 && wanted[i - 1] === d)) {
				throw invalid(
					'departmentIds',
					'flow_repeat',
					'A flow does not repeat a department twice in a row'
				);
			}
		}
		if (type === 'crew') {
			const members = input.memberIds as string[];
			if (new Set(members).size !== members.length) {
				throw invalid('memberIds', 'invalid', 'A member is listed twice');
			}
			// A crew may start without members (they are ticked later); the store refuses an empty key list.
			const found =
				members.length === 0
					? { rows: [] }
					: await users.allDocs({ keys: members, include_docs: true });
			for (const row of found.rows) {
				const doc = row.doc ?? null;
				if (!doc || doc.type !== 'user' || doc.departmentId !== input.departmentId) {
					throw invalid(
						'memberIds',
						'crew_member_department',
						`${row.key} is not a user of the crew's department`
					);
				}
			}
		}
	}

	/** Why a document cannot be deleted now (reason → count), or null. */
	async function usage(type: ConfigType, doc: ConfigDoc): Promise<Record<string, string> | null> {
		const reasons: Record<string, number> = {};
		if (type === 'department') {
			reasons.children = (await all<DepartmentDoc>('department')).filter(
				(d) => d.parentId === doc._id
			).length;
			reasons.users = await countIn('users', 'users_by_department', doc._id);
			reasons.crews = (await all<CrewDoc>('crew')).filter((c) => c.departmentId === doc._id).length;
			reasons.tickets = await countIn('tickets', 'tickets_by_scope', doc._id);
			if ((doc as DepartmentDoc).isCenter) reasons.center = 1;
		}
		// Hotlines without a menu of their own use it: there must always be one.
		if (type === 'voiceMenu' && doc.key === 'default') reasons.defaultMenu = 1;
		if (type === 'crew') reasons.tickets = await countIn('tickets', 'tickets_by_scope', doc._id);
		if (type === 'flow') reasons.tickets = await countIn('tickets', 'tickets_by_flow', doc._id);
		if (type === 'serviceType') {
			reasons.tickets = await countIn('tickets', 'tickets_by_service_type', doc._id);
		}
		if (type === 'contentCategory') {
			reasons.tickets = await countIn('tickets', 'tickets_by_content_category', doc._id);
		}
		const inUse = Object.entries(reasons).filter(([, n]) => n > 0);
		return inUse.length > 0 ? Object.fromEntries(inUse.map(([k, n]) => [k, String(n)])) : null;
	}

	async function save(doc: ConfigDoc): Promise<ConfigDoc> {
		try {
			const res = await db.insert(doc);
			const saved = { ...doc, _rev: res.rev };
			index.apply(saved);
			return saved;
		} catch (err) {
			if (storeStatus(err) === 409) {
				throw new AppError('stale', 409, 'Someone else changed it first; reload it');
			}
			throw err;
		}
	}

	/**
	 * The department, crew and flow ids that exist, kept in memory and read again only when the database
	 * changed (its update sequence moved): the write rules ask on every replicated write.
	 */
	let ids: { seq: unknown; known: Promise<KnownIds> } | null = null;
	async function loadIds(): Promise<KnownIds> {
		const [departments, crews, flows] = await Promise.all(
			(['department', 'crew', 'flow'] as const).map(async (type) => {
				const res = await db.allDocs({ startkey: `${type}:`, endkey: `${type}:\ufff0` });
				return new Set(res.rows.map((r) => r.id));
			})
		);
		return { departments: departments!, crews: crews!, flows: flows! };
	}

	return {
		all,
		get,

		async knownIds(): Promise<KnownIds> {
			const seq = JSON.stringify(await db.updateSeq());
			if (ids?.seq !== seq) {
				const known = loadIds();
				ids = { seq, known };
				known.catch(() => {
					if (ids?.known === known) ids = null;
				});
			}
			return ids.known;
		},

		/** `input` was validated with `CONFIG_INPUTS[type]` (the route's validator). */
		async create(type: ConfigType, input: Input, actor: string): Promise<ConfigDoc> {
			await checkRules(type, input, null, null);
			const doc = {
				...input,
				_id: `${type}:${randomUUID()}`,
				type,
				...(type === 'department' ? { isCenter: false } : {}),
				...(type === 'notice' ? { publishedBy: actor } : {}),
				updatedAt: new Date().toISOString()
			} as ConfigDoc;
			const saved = await save(doc);
			await audit.record({ actor, action: `${type}.create`, target: saved._id, after: saved });
			return saved;
		},

		/** `change` was validated with `CONFIG_INPUTS[type]` and `Rev` (the route's validator). */
		async update(
			type: ConfigType,
			id: string,
			{ _rev, ...input }: Input & { _rev: string },
			actor: string
		): Promise<ConfigDoc> {
			const current = await get(type, id);
			if (current._rev !== _rev) {
				throw new AppError('stale', 409, 'Someone else changed it first; reload it');
			}
			await checkRules(type, input, id, current);
			const saved = await save({
				...current,
				...input,
				updatedAt: new Date().toISOString()
			} as ConfigDoc);
			await audit.record({
				actor,
				action: `${type}.update`,
				target: id,
				before: current,
				after: saved
			});
			return saved;
		},

		async remove(type: ConfigType, id: string, rev: string, actor: string): Promise<void> {
			const current = await get(type, id);
			if (current._rev !== rev) {
				throw new AppError('stale', 409, 'Someone else changed it first; reload it');
			}
			const reasons = await usage(type, current);
			if (reasons) {
				throw new AppError('in_use', 409, `Still in use: ${JSON.stringify(reasons)}`, {
					issues: reasons
				});
			}
			try {
				await db.destroy(id, rev);
				index.apply({ _id: id, _deleted: true });
			} catch (err) {
				if (storeStatus(err) === 409) {
					throw new AppError('stale', 409, 'Someone else changed it first; reload it');
				}
				throw err;
			}
			await audit.record({ actor, action: `${type}.delete`, target: id, before: current });
		},

		/** The crews a user belongs to (their `crew:` scopes), from memory. */
		crewsOf: (userId: string) => index.crewsOf(userId),

		/** Whether any ticket names this user as the author of an event (F8). */
		async ticketsBy(userId: string): Promise<number> {
			return countIn('tickets', 'tickets_by_author', userId);
		}
	};
}
export type ConfigAdmin = ReturnType<typeof createConfigAdmin>;
