import { describe, expect, it } from 'vitest';
import { toCsv } from './export';

describe('F35 CSV export', () => {
	it('#13 neutralises cells a spreadsheet would read as a formula, TAB and CR included', () => {
		const columns = [{ label: '内容', value: (r: { text: string }) => r.text }];
		const csv = toCsv({
			columns,
			rows: [
				{ text: '=HYPERLINK("http://evil.example","点我")' },
				{ text: '+1+1' },
				{ text: '-2' },
				{ text: '@SUM(A1)' },
				{ text: '\t=1+1' },
				{ text: '\r=1+1' },
				{ text: '正常内容' }
			]
		});
		const cells = csv.split('\r\n').slice(1, -1);
		expect(cells).toEqual([
			`"'=HYPERLINK(""http://evil.example"",""点我"")"`,
			"'+1+1",
			"'-2",
			"'@SUM(A1)",
			"'\t=1+1",
			`"'\r=1+1"`,
			'正常内容'
		]);
	});

	it('keeps numbers as numbers', () => {
		const csv = toCsv({
			columns: [{ label: 'n', value: (r: { n: number }) => r.n }],
			rows: [{ n: -5 }]
		});
		expect(csv).toBe('n\r\n-5\r\n');
	});
});
