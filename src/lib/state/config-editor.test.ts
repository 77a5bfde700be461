/**
 * #14 F11–F14 the one way every administration list edits configuration: what goes to the server for a new
 * item, an edit and a deletion, and what the administrator reads after each outcome.
 */
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { ApiError } from '$lib/api/client';
import type { FlowDoc, RoleDoc } from '#shared/docs/config';

const admin = vi.hoisted(() => ({
	createConfig: vi.fn(),
	updateConfig: vi.fn(),
	deleteConfig: vi.fn()
}));
vi.mock('$lib/data/admin', () => admin);

const { ConfigEditor } = await import('./config-editor.svelte');
const { Notice } = await import('./notice.svelte');

const flow: FlowDoc = {
	_id: 'flow:repair',
	_rev: '3-abc',
	type: 'flow',
	name: '报修流程',
	departmentIds: ['department:center', 'department:network']
};

let answer = true;
beforeEach(() => {
	answer = true;
	vi.stubGlobal('confirm', () => answer);
	for (const fn of Object.values(admin)) fn.mockReset().mockResolvedValue({});
});
afterEach(() => vi.unstubAllGlobals());

function flows() {
	const fields = { name: '', steps: [] as string[] };
	const editor = new ConfigEditor<FlowDoc>({
		type: 'flow',
		fill: (f) => {
			fields.name = f?.name ?? '';
			fields.steps = f ? [...f.departmentIds] : [];
		}
	});
	return { editor, fields };
}

test('#14 F13 a new item is created with the fields given; the form empties and says saved', async () => {
	const { editor, fields } = flows();
	fields.name = '投诉流程';
	expect(await editor.save({ name: '投诉流程', departmentIds: ['department:center'] })).toBe(true);
	expect(admin.createConfig).toHaveBeenCalledWith({
		type: 'flow',
		input: { name: '投诉流程', departmentIds: ['department:center'] }
	});
	expect(admin.updateConfig).not.toHaveBeenCalled();
	expect(editor.notice.message).toBe('已保存。');
	expect(fields.name).toBe('');
});

test('#14 F13 an edit saves over the revision it started from; a stale one is refused and the form keeps the edit', async () => {
	const { editor, fields } = flows();
	editor.edit(flow);
	expect(fields).toEqual({ name: '报修流程', steps: ['department:center', 'department:network'] });
	admin.updateConfig.mockRejectedValueOnce(
		new ApiError('stale', 409, { code: 'stale', message: 'Someone else changed it first' })
	);
	expect(await editor.save({ name: '报修流程二', departmentIds: flow.departmentIds })).toBe(false);
	expect(admin.updateConfig).toHaveBeenCalledWith({
		doc: flow,
		input: { name: '报修流程二', departmentIds: flow.departmentIds }
	});
	expect(editor.form.error).toBe('该记录已被他人修改，请刷新后重试。');
	expect(editor.editing).toEqual(flow);
	expect(editor.notice.message).toBe('');
});

test('#14 F12 deleting asks first; a refusal while in use says what still uses it; several editors share one notice', async () => {
	const notice = new Notice();
	const roles = new ConfigEditor<RoleDoc>({ type: 'role', notice, fill: () => {} });
	const { editor } = flows();
	const role: RoleDoc = {
		_id: 'role:qa',
		_rev: '1-a',
		type: 'role',
		name: '质检',
		permissions: []
	};

	answer = false;
	expect(await roles.remove(role)).toBe(false);
	expect(admin.deleteConfig).not.toHaveBeenCalled();

	answer = true;
	expect(await roles.remove(role)).toBe(true);
	expect(admin.deleteConfig).toHaveBeenCalledWith({ doc: role });
	expect(notice.message).toBe('已删除。');

	admin.deleteConfig.mockRejectedValueOnce(
		new ApiError('in_use', 409, { code: 'in_use', message: 'Still in use', issues: { users: '2' } })
	);
	expect(await editor.remove(flow)).toBe(false);
	expect(editor.notice.error).toBe('不能删除：还有 2 个用户。');
});
