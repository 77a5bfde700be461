/**
 * Moments as the UI shows them (#17): in this computer's time zone and in one form whatever the browser's
 * locale — `2026-12-01 08:30` — so a Chinese page never shows 12/1/2026 and a list sorts by its text.
 */
const two = (n: number) => String(n).padStart(2, '0');

/** `2026-12-01 08:30` (local time); the text given back unchanged when it is not a date. */
export function dateTime(iso: string): string {
	const d = new Date(iso);
	if (Number.isNaN(d.getTime())) return iso;
	return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

/** `12-01 08:30` (local time): within the year, where space is short (a crew's work window). */
export function shortDateTime(iso: string): string {
	return dateTime(iso).slice(5);
}

/** The value of an `<input type="datetime-local">` for a moment: `2026-12-01T08:30` (local time). */
export function localInput(iso: string): string {
	return dateTime(iso).replace(' ', 'T');
}
