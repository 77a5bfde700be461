/**
 * Phone numbers are normalised once, by this one function, wherever they enter: when stored, when searched
 * and for the caller number of a call (DESIGN.md: mismatched formats are the commonest screen-pop bug).
 * The result is digits only: the country prefix +86 / 0086 / 86 (before a mobile or a 0-less landline) is
 * removed, a landline keeps its area code with the leading 0, an extension after "转"/"ext"/"x" is dropped.
 */
export function normalizePhone(raw: string): string {
	let s = raw.normalize('NFKC').trim();
	s = s.split(/(?:转|ext\.?|x|#)/i)[0] ?? '';
	let digits = s.replace(/\D/g, '');
	const international = s.startsWith('+') || digits.startsWith('0086');
	let stripped = false;
	if (digits.startsWith('0086')) {
		digits = digits.slice(4);
		stripped = true;
	} else if (digits.startsWith('86') && (international || digits.length >= 12)) {
		digits = digits.slice(2);
		stripped = true;
	}
	// After a country prefix a landline is written without its trunk 0 (+86 571 …): put it back.
	if (stripped && !digits.startsWith('0') && !/^1[3-9]\d{9}$/.test(digits)) digits = `0${digits}`;
	return digits;
}
