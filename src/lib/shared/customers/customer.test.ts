import { describe, expect, it } from 'vitest';
import { customerFromRow, headerField, sameCustomer } from './customer';

const AT = '2026-11-25T00:00:00.000Z';

describe('subscriber rows from billing exports', () => {
	it('maps Chinese and English column names, whatever their spacing and case', () => {
		expect(headerField('账号')).toBe('account');
		expect(headerField(' Smart_Card ')).toBe('smartCard');
		expect(headerField('联系电话')).toBe('phones');
		expect(headerField('备注')).toBeUndefined();
	});

	it('normalises every phone number once, drops repeats and splits lists', () => {
		const r = customerFromRow(
			'digital',
			{
				account: 'D1',
				name: ' 王建国 ',
				phones: '+86 138-0013-8000；13800138000, 0571 8888 6666',
				products: '基本包|高清包'
			},
			AT
		);
		expect(r.ok && r.customer).toMatchObject({
			_id: 'digital:D1',
			name: '王建国',
			phones: ['13800138000', '057188886666'],
			products: ['基本包', '高清包'],
			source: 'digital'
		});
	});

	it('names the problem of a bad row with a code', () => {
		expect(customerFromRow('analog', { name: 'x' }, AT)).toEqual({
			ok: false,
			reason: 'account_required'
		});
		expect(customerFromRow('analog', { account: 'a b', name: 'x' }, AT)).toEqual({
			ok: false,
			reason: 'account_invalid'
		});
		expect(customerFromRow('analog', { account: 'A1', name: 'x', phones: '12' }, AT)).toEqual({
			ok: false,
			reason: 'phone_invalid'
		});
		expect(customerFromRow('analog', { account: 'A1', name: '' }, AT)).toEqual({
			ok: false,
			reason: 'name_required'
		});
	});

	it('treats a re-import with the same content as unchanged, whatever the import time', () => {
		const a = customerFromRow('digital', { account: 'D1', name: '甲', phones: '13800138000' }, AT);
		const b = customerFromRow(
			'digital',
			{ account: 'D1', name: '甲', phones: '138 0013 8000' },
			'x'
		);
		const c = customerFromRow('digital', { account: 'D1', name: '乙', phones: '13800138000' }, AT);
		if (!a.ok || !b.ok || !c.ok) throw new Error('rows should be valid');
		expect(sameCustomer(a.customer, b.customer)).toBe(true);
		expect(sameCustomer(a.customer, c.customer)).toBe(false);
	});
});
