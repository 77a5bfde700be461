/**
 * Prompts made by the real espeak-ng and sox (Debian packages, installed by `scripts/ensure.mjs --test`).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { PromptError, promptPath, synthesize } from './prompts';

const dir = mkdtempSync(join(tmpdir(), 'ivr-prompts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The fields of a canonical 44-byte WAV header. */
function wavFormat(file: string) {
	const b = readFileSync(file);
	return {
		riff: b.toString('ascii', 0, 4),
		wave: b.toString('ascii', 8, 12),
		pcm: b.readUInt16LE(20),
		channels: b.readUInt16LE(22),
		rate: b.readUInt32LE(24),
		bits: b.readUInt16LE(34),
		bytes: b.length
	};
}

describe('prompts', () => {
	it('speaks Mandarin text into an 8 kHz mono 16-bit WAV', async () => {
		const file = await synthesize('您好，欢迎致电有线电视客服热线。', { dir });
		expect(file).toBe(promptPath('您好，欢迎致电有线电视客服热线。', { dir }));
		const wav = wavFormat(file);
		expect(wav).toMatchObject({
			riff: 'RIFF',
			wave: 'WAVE',
			pcm: 1,
			channels: 1,
			rate: 8000,
			bits: 16
		});
		// About two seconds of speech at 16 kB/s: more than half a second of it.
		expect(wav.bytes).toBeGreaterThan(8_000);
	});

	it('reuses the cached file; another text or voice is another file; no temporary files stay', async () => {
		const first = await synthesize('人工服务请按0。', { dir });
		const made = statSync(first).mtimeMs;
		expect(await synthesize('  人工服务请按0。 ', { dir })).toBe(first);
		expect(statSync(first).mtimeMs).toBe(made);
		expect(promptPath('人工服务请按0。', { dir, voice: 'en' })).not.toBe(first);
		expect(await synthesize('查询余额请按2。', { dir })).not.toBe(first);
		expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
	});

	it('makes a prompt asked for twice at once only once', async () => {
		const [a, b] = await Promise.all([
			synthesize('正在为您转接人工坐席。', { dir }),
			synthesize('正在为您转接人工坐席。', { dir })
		]);
		expect(a).toBe(b);
		expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
	});

	it('takes text starting with a dash as text', async () => {
		const file = await synthesize('-v en 一', { dir });
		expect(wavFormat(file).rate).toBe(8000);
	});

	it('refuses empty text', async () => {
		await expect(synthesize('  \n', { dir })).rejects.toMatchObject({ code: 'empty_text' });
	});

	it('names the Debian package when espeak-ng or sox is missing', async () => {
		const noEspeak = synthesize('缺少', { dir, espeak: '/nonexistent/espeak-ng' });
		await expect(noEspeak).rejects.toBeInstanceOf(PromptError);
		await expect(noEspeak).rejects.toMatchObject({
			code: 'missing_tool',
			message: expect.stringMatching(/espeak-ng is not installed.*package espeak-ng/)
		});
		await expect(synthesize('缺少', { dir, sox: '/nonexistent/sox' })).rejects.toMatchObject({
			code: 'missing_tool',
			message: expect.stringMatching(/package sox/)
		});
		expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
	});

	it('reports a tool’s failure, and a tool that made no audio', async () => {
		await expect(synthesize('声音', { dir, espeak: '/bin/false' })).rejects.toMatchObject({
			code: 'failed',
			message: expect.stringMatching(/\/bin\/false exited with 1/)
		});
		await expect(synthesize('声音', { dir, espeak: '/bin/true' })).rejects.toMatchObject({
			code: 'failed',
			message: expect.stringMatching(/produced no audio/)
		});
		expect(readdirSync(dir).filter((f) => f.startsWith('.'))).toEqual([]);
	});
});
