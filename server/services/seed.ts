/**
 * First-start seeding of the configuration: a department tree and the default roles. Runs once per store
 * (marked by `setting:seed`), so departments or roles an administrator later deletes do not come back.
 * What later versions add to a store seeded before them (a permission the administrators' role must hold,
 * a document the product needs) is an upgrade, run once per store as well (listed in `setting:seed`).
 */
import { PERMISSIONS, PERMISSION_FAMILIES, type Permission } from '#shared/permissions';
import {
	CENTER_DEPARTMENT_ID,
	DEFAULT_VOICE_MENU_ID,
	type DepartmentDoc,
	type RoleDoc,
	type VoiceMenuDoc
} from '#shared/docs/config';
import { DEFAULT_VOICE_MENU } from '#shared/voice-menu';
import { storeStatus } from '../errors';
import type { Store } from '../store';

const dept = (
	key: string,
	name: string,
	parentId: string | null,
	order: number,
	isCenter = false
): DepartmentDoc => ({
	_id: `department:${key}`,
	type: 'department',
	name,
	parentId,
	isCenter,
	order
});

export const SEED_DEPARTMENTS: DepartmentDoc[] = [
	{ ...dept('center', '客服中心', null, 0, true), _id: CENTER_DEPARTMENT_ID },
	dept('engineering', '工程部', null, 1),
	dept('engineering-install', '安装维修队', 'department:engineering', 0),
	dept('network', '网络部', null, 2),
	dept('business', '营业厅', null, 3),
	dept('business-east', '城东营业厅', 'department:business', 0),
	dept('business-west', '城西营业厅', 'department:business', 1),
	dept('billing', '财务部', null, 4)
];

const center = PERMISSION_FAMILIES.center;
const role = (key: string, name: string, permissions: readonly Permission[]): RoleDoc => ({
	_id: `role:${key}`,
	type: 'role',
	key,
	name,
	permissions: [...permissions]
});

export const SEED_ROLES: RoleDoc[] = [
	role('admin', '管理员', PERMISSIONS),
	role('leader', '班长', [...center, 'admin.phrases', 'admin.audit', 'notice.publish']),
	role(
		'agent',
		'坐席',
		center.filter(
			(p) =>
				![
					'customer.import',
					'stats.view',
					'recording.listen',
					'supervise',
					'campaign.run'
				].includes(p)
		)
	),
	role('department', '部门处理员', [
		'dept.process',
		'dept.stats',
		'workOrder.dispatch',
		'notice.publish'
	]),
	role('crew', '施工队员', ['workOrder.execute'])
];

const named = <T extends string>(
	type: T,
	key: string,
	name: string,
	order: number,
	extra: object = {}
) => ({
	_id: `${type}:${key}`,
	type,
	key,
	name,
	order,
	...extra
});

/** Catalogues a cable-TV operator starts with; administrators edit them in 业务目录 and 服务用语. */
export const SEED_CATALOGUES = [
	named('serviceType', 'repair', '报修', 0, { callbackRequired: true }),
	named('serviceType', 'inquiry', '咨询', 1, { callbackRequired: false }),
	named('serviceType', 'complaint', '投诉', 2, { callbackRequired: true }),
	named('serviceType', 'billing', '缴费', 3, { callbackRequired: false }),
	named('contentCategory', 'digital', '数字电视', 0),
	named('contentCategory', 'analog', '模拟电视', 1),
	named('contentCategory', 'broadband', '宽带', 2),
	named('contentCategory', 'other', '其他', 3),
	named('phrase', 'greeting', '开场', 0, {
		stage: 'greeting',
		text: '您好，广电客服中心，很高兴为您服务。'
	}),
	named('phrase', 'identity', '核实身份', 0, {
		stage: 'identity',
		text: '请问您的客户编号或登记的电话号码是多少？'
	}),
	named('phrase', 'closing', '结束', 0, {
		stage: 'closing',
		text: '感谢您的来电，祝您生活愉快，再见。'
	})
];

/** #18 the menu callers hear until administrators change it in 语音导航. */
export const SEED_VOICE_MENU: VoiceMenuDoc = {
	...DEFAULT_VOICE_MENU,
	_id: DEFAULT_VOICE_MENU_ID,
	type: 'voiceMenu',
	key: 'default'
};

type ConfigDb = ReturnType<Store['db']>;

/** Changes for stores seeded by an earlier version, in order; each runs once (its id is then recorded). */
const UPGRADES: { id: string; run: (db: ConfigDb) => Promise<void> }[] = [
	{
		// #18: 语音导航 is administered with `admin.ivr`, which the administrators' role did not have.
		id: 'voice-menu',
		async run(db) {
			await insertMissing(db, SEED_VOICE_MENU);
			await grant(db, 'role:admin', 'admin.ivr');
		}
	},
	{
		// #18 故障公告 are published by departments and team leaders with `notice.publish`.
		id: 'notices',
		async run(db) {
			for (const id of ['role:admin', 'role:leader', 'role:department']) {
				await grant(db, id, 'notice.publish');
			}
		}
	}
];

/** Adds the permission to the seeded role, unless it has it or an administrator deleted the role. */
async function grant(db: ConfigDb, id: string, permission: Permission) {
	try {
		const role = (await db.get(id)) as RoleDoc;
		if (!role.permissions.includes(permission)) {
			await db.insert({ ...role, permissions: [...role.permissions, permission] });
		}
	} catch (err) {
		if (storeStatus(err) !== 404) throw err;
	}
}

async function insertMissing(db: ConfigDb, doc: { _id: string }) {
	try {
		await db.insert(doc);
	} catch (err) {
		if (storeStatus(err) !== 409) throw err;
	}
}

type SeedMark = {
	_id: 'setting:seed';
	_rev?: string;
	type: 'setting';
	name: 'seed';
	at: string;
	upgrades?: string[];
};

/** Seeds a new store, or brings an older one up to date; true when it seeded. */
export async function seedConfig(store: Store): Promise<boolean> {
	const db = store.db<SeedMark>('config');
	let mark: SeedMark | null = null;
	try {
		mark = await db.get('setting:seed');
	} catch (err) {
		if (storeStatus(err) !== 404) throw err;
	}
	if (mark) {
		const done = new Set(mark.upgrades ?? []);
		const due = UPGRADES.filter((u) => !done.has(u.id));
		if (due.length === 0) return false;
		for (const upgrade of due) await upgrade.run(db);
		await db.insert({ ...mark, upgrades: [...done, ...due.map((u) => u.id)] });
		return false;
	}
	const docs = [...SEED_DEPARTMENTS, ...SEED_ROLES, ...SEED_CATALOGUES, SEED_VOICE_MENU];
	const results = await db.bulkDocs(docs);
	const failed = results.filter((r) => r.error && r.error !== 'conflict');
	if (failed.length > 0) throw new Error(`seeding configuration failed: ${JSON.stringify(failed)}`);
	const seed: SeedMark = {
		_id: 'setting:seed',
		type: 'setting',
		name: 'seed',
		at: new Date().toISOString(),
		upgrades: UPGRADES.map((u) => u.id)
	};
	await db.insert(seed);
	return true;
}
