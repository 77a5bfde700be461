import { describe, expect, it } from 'vitest';
import { zhCN } from './zh-CN';
import { en } from './en';
import { ERROR_CODES } from '#shared/errors';
import { PERMISSIONS } from '#shared/permissions';

const keys = (o: object, prefix = ''): string[] =>
	Object.entries(o).flatMap(([k, v]) =>
		typeof v === 'string' ? [prefix + k] : keys(v as object, `${prefix}${k}.`)
	);

describe('i18n catalogues', () => {
	it('English has exactly the keys of zh-CN', () => {
		expect(keys(en).sort()).toEqual(keys(zhCN).sort());
	});

	it('every error code and permission has a label in both languages', () => {
		for (const catalogue of [zhCN, en]) {
			for (const code of ERROR_CODES) expect(catalogue.error[code], code).toMatch(/\S/);
			for (const id of PERMISSIONS) {
				expect((catalogue.perm as Record<string, string>)[id], id).toMatch(/\S/);
			}
		}
	});
});
