import { expect, test } from 'vitest';
import { shortcutOf } from './shortcuts';

const key = (
	code: string,
	mods: Partial<Record<'altKey' | 'ctrlKey' | 'metaKey' | 'shiftKey', boolean>> = {}
) => ({
	altKey: false,
	ctrlKey: false,
	metaKey: false,
	shiftKey: false,
	code,
	...mods
});

test('#17 Alt with a digit key asks for a call action, whatever the layout prints; other keys do not', () => {
	expect(shortcutOf(key('Digit1', { altKey: true }))).toBe('answer');
	expect(shortcutOf(key('Digit2', { altKey: true }))).toBe('hangup');
	expect(shortcutOf(key('Digit8', { altKey: true }))).toBe('ready');
	expect(shortcutOf(key('Digit1'))).toBeNull();
	expect(shortcutOf(key('Digit1', { altKey: true, ctrlKey: true }))).toBeNull();
	expect(shortcutOf(key('Digit5', { altKey: true }))).toBeNull();
	expect(shortcutOf(key('KeyA', { altKey: true }))).toBeNull();
});
