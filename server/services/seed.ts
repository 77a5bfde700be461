/**
 * First-start seeding of the configuration: a department tree and the default roles. Runs once per store
 * (marked by `setting:seed`), so departments or roles an administrator later deletes do not come back.
 */
import { PERMISSIONS, PERMISSION_FAMILIES, type Permission } from '#shared/permissions';
import { CENTER_DEPARTMENT_ID, type DepartmentDoc, type RoleDoc } from '#shared/docs/config';
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
	role('leader', '班长', [...center, 'admin.phrases', 'admin.audit']),
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
	role('department', '部门处理员', ['dept.process', 'dept.stats', 'workOrder.dispatch']),
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

export async function seedConfig(store: Store): Promise<boolean> {
	const db = store.db('config');
	try {
		await db.get('setting:seed');
		return false;
	} catch (err) {
		if (storeStatus(err) !== 404) throw err;
	}
	const docs = [...SEED_DEPARTMENTS, ...SEED_ROLES, ...SEED_CATALOGUES];
	const results = await db.bulkDocs(docs);
	const failed = results.filter((r) => r.error && r.error !== 'conflict');
	if (failed.length > 0) throw new Error(`seeding configuration failed: ${JSON.stringify(failed)}`);
	await db.insert({
		_id: 'setting:seed',
		type: 'setting',
		name: 'seed',
		at: new Date().toISOString()
	});
	return true;
}
