/**
 * F35: what a table shows, exported as CSV (UTF-8 with BOM, so Excel reads Chinese correctly) or as an
 * Excel workbook (write-excel-file, loaded only when asked for). Same columns and rows as on screen.
 */
/** What export needs of a table column (SortableTable's columns fit). */
interface Column<R> {
	label: string;
	value: (row: R) => string | number | null;
}

function download(blob: Blob, fileName: string) {
	const url = URL.createObjectURL(blob);
	const a = Object.assign(document.createElement('a'), { href: url, download: fileName });
	document.body.append(a);
	a.click();
	a.remove();
	setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

const csvCell = (v: string | number | null) => {
	const s = v === null ? '' : String(v);
	// Quote what would break the row, and neutralise what a spreadsheet would start a formula with
	// (CSV injection): = + - @, and TAB or CR, which some spreadsheets skip before reading a formula.
	const safe = /^[=+\-@\t\r]/.test(s) && typeof v === 'string' ? `'${s}` : s;
	return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
};

/** The table as CSV text (no BOM). */
export function toCsv<R>({ columns, rows }: { columns: Column<R>[]; rows: R[] }): string {
	const lines = [columns.map((c) => csvCell(c.label)).join(',')];
	for (const row of rows) lines.push(columns.map((c) => csvCell(c.value(row))).join(','));
	return lines.join('\r\n') + '\r\n';
}

interface Download<R> {
	columns: Column<R>[];
	rows: R[];
	/** Without extension. */
	fileName: string;
}

export function downloadCsv<R>({ columns, rows, fileName }: Download<R>) {
	download(
		new Blob(['\uFEFF', toCsv({ columns, rows })], { type: 'text/csv;charset=utf-8' }),
		`${fileName}.csv`
	);
}

export async function downloadXlsx<R>({ columns, rows, fileName }: Download<R>) {
	const { default: writeXlsxFile } = await import('write-excel-file/browser');
	const data = [
		columns.map((c) => ({ value: c.label, fontWeight: 'bold' as const })),
		...rows.map((r) => columns.map((c) => c.value(r)))
	];
	const blob = await writeXlsxFile(data, { columns: columns.map(() => ({ width: 18 })) }).toBlob();
	download(blob, `${fileName}.xlsx`);
}
