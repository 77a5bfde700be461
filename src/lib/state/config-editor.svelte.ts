/**
 * Editing a list of configuration documents (服务类型, 内容分类, 部门流程, 服务用语, 角色, 施工队), the same way on
 * every administration page: which item the form edits (or a new one), saving it — a change made from an old
 * revision is refused by the server, never overwritten — and deleting one once the administrator confirms
 * (refused while in use, saying why). The page owns its fields; `fill` puts an item's values into them.
 */
import { t } from '$lib/i18n/index.svelte';
import { createConfig, deleteConfig, updateConfig } from '$lib/data/admin';
import { FormState } from './form-state.svelte';
import { Notice } from './notice.svelte';
import type { ConfigDoc } from '#shared/docs/config';

export class ConfigEditor<T extends ConfigDoc> {
	/** The item the form edits; null while it adds a new one. */
	editing = $state<T | null>(null);
	readonly form = new FormState();
	readonly notice: Notice;
	readonly #type: T['type'];
	readonly #fill: (item: T | null) => void;

	constructor({
		type,
		fill,
		notice = new Notice()
	}: {
		type: T['type'];
		/** Puts the item's values into the page's fields (null: empty, for a new item). */
		fill: (item: T | null) => void;
		/** Where saved / deleted / refused shows (a page with several editors shares one). */
		notice?: Notice;
	}) {
		this.#type = type;
		this.#fill = fill;
		this.notice = notice;
	}

	/** Starts editing the item, or a new one. */
	edit(item: T | null): void {
		this.editing = item;
		this.notice.message = '';
		this.#fill(item);
	}

	/** Saves the fields as a new item or over the one edited; true when saved (the form is then empty). */
	async save(input: Record<string, unknown>): Promise<boolean> {
		const current = this.editing;
		const saved = await this.form.run(async () => {
			if (current) await updateConfig({ doc: current, input });
			else await createConfig({ type: this.#type, input });
		});
		if (saved) {
			this.edit(null);
			this.notice.done(t('admin.saved'));
		}
		return saved;
	}

	/** Deletes the item once the administrator confirms; true when deleted. */
	async remove(item: T): Promise<boolean> {
		if (!confirm(t('admin.confirmDelete', { name: item.name }))) return false;
		try {
			await deleteConfig({ doc: item });
			this.notice.done(t('admin.deleted'));
			return true;
		} catch (err) {
			this.notice.failed(err);
			return false;
		}
	}
}
