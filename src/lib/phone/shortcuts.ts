/**
 * #17 the call's keys: the agent answers, hangs up, holds, mutes and changes state without the mouse. Alt with
 * a digit (by key position, so any keyboard layout works), shown beside each button and announced through
 * `aria-keyshortcuts`; the same on every page the call bar is on.
 */
export const SHORTCUTS = {
	answer: 'Alt+1',
	hangup: 'Alt+2',
	hold: 'Alt+3',
	mute: 'Alt+4',
	ready: 'Alt+8',
	notReady: 'Alt+9'
} as const;
export type ShortcutAction = keyof typeof SHORTCUTS;

const BY_CODE = new Map<string, ShortcutAction>(
	Object.entries(SHORTCUTS).map(([action, keys]) => [
		`Digit${keys.slice(-1)}`,
		action as ShortcutAction
	])
);

/** The action a key press asks for, or null (Alt + digit only; Ctrl, Meta and Shift leave it alone). */
export function shortcutOf(
	e: Pick<KeyboardEvent, 'altKey' | 'ctrlKey' | 'metaKey' | 'shiftKey' | 'code'>
): ShortcutAction | null {
	if (!e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return null;
	return BY_CODE.get(e.code) ?? null;
}
