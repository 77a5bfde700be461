/**
 * #13 F32 recordings on disk: the real `janus-pp-rec` and `sox` turn two recorded legs (G.711 `.mjr`
 * files as Janus writes them) into one WAV. Run under umask 000, the folder and every file still come out
 * the owner's only; a hotline call is found by its Call-ID, another call's leg never under one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
	existsSync,
	mkdirSync,
	mkdtempSync,
	readdirSync,
	renameSync,
	rmSync,
	statSync,
	writeFileSync
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRecordings } from './recordings';

/** A Janus recording (MJR v2) of `packets` PCMA packets of 20 ms. */
function mjr(file: string, packets = 100) {
	const info = JSON.stringify({ t: 'a', c: 'pcma', s: Date.now() * 1000, u: Date.now() * 1000 });
	const length = Buffer.alloc(2);
	length.writeUInt16BE(info.length);
	const parts = [Buffer.from('MJR00002'), length, Buffer.from(info)];
	for (let i = 0; i < packets; i++) {
		const rtp = Buffer.alloc(12 + 160, 0xd5);
		rtp[0] = 0x80;
		rtp[1] = 8;
		rtp.writeUInt16BE(i, 2);
		rtp.writeUInt32BE(i * 160, 4);
		rtp.writeUInt32BE(1234, 8);
		const frame = Buffer.alloc(10);
		frame.write('MEET', 0);
		frame.writeUInt32BE(i * 20, 4);
		frame.writeUInt16BE(rtp.length, 8);
		parts.push(frame, rtp);
	}
	writeFileSync(file, new Uint8Array(Buffer.concat(parts.map((b) => new Uint8Array(b)))));
}

const mode = (path: string) => statSync(path).mode & 0o777;
const root = mkdtempSync(join(tmpdir(), 'recordings-'));
let umask = 0;
beforeAll(() => {
	umask = process.umask(0);
});
afterAll(() => {
	process.umask(umask);
	rmSync(root, { recursive: true, force: true });
});

describe('#13 F32 recordings are the owner’s only and never overwrite one another', () => {
	it('mixes a hotline call’s legs into a private WAV found by its Call-ID, once Janus has closed them', async () => {
		const dir = join(root, 'recordings');
		const ready: string[] = [];
		const recordings = createRecordings({
			dir,
			enabled: true,
			log: () => {},
			onReady: (callId) => ready.push(callId)
		});
		expect(mode(dir)).toBe(0o700);
		const base = recordings.base('hot-1')!;
		// Janus is still writing: the legs carry its temporary extension until the call's media ends.
		mjr(`${base}-user-audio.mjr.tmp`);
		mjr(`${base}-peer-audio.mjr.tmp`);
		const finished = recordings.finish({ callId: 'hot-1', agentId: '1001', base });
		for (const side of ['user', 'peer']) {
			renameSync(`${base}-${side}-audio.mjr.tmp`, `${base}-${side}-audio.mjr`);
		}
		const wav = await finished;
		expect(wav).toBe(recordings.find('hot-1'));
		expect(mode(wav!)).toBe(0o600);
		expect(statSync(wav!).size).toBeGreaterThan(100 * 160 * 2);
		expect(ready).toEqual(['hot-1']);
		// The legs are gone once mixed; only the WAV stays.
		expect(readdirSync(dir)).toEqual([wav!.slice(dir.length + 1)]);
	});

	it('keeps each leg of a call the ACD does not know under a name of its own, not findable by a Call-ID', async () => {
		const dir = join(root, 'legs');
		const ready: string[] = [];
		const recordings = createRecordings({
			dir,
			enabled: true,
			log: () => {},
			onReady: (callId) => ready.push(callId)
		});
		const bases = [recordings.legBase('1001')!, recordings.legBase('1002')!];
		expect(new Set(bases).size).toBe(2);
		const wavs: string[] = [];
		for (const [i, base] of bases.entries()) {
			mjr(`${base}-user-audio.mjr`);
			mjr(`${base}-peer-audio.mjr`);
			wavs.push((await recordings.finish({ callId: null, agentId: `100${i + 1}`, base }))!);
		}
		expect(new Set(wavs).size).toBe(2);
		for (const wav of wavs) {
			expect(existsSync(wav)).toBe(true);
			expect(mode(wav)).toBe(0o600);
		}
		expect(ready).toEqual([]);
		expect(readdirSync(dir).sort()).toEqual(wavs.map((w) => w.slice(dir.length + 1)).sort());
	});

	it('records a one-way call from the side that spoke: a leg without audio leaves the WAV to the other', async () => {
		const dir = join(root, 'one-way');
		const logged: string[] = [];
		const recordings = createRecordings({ dir, enabled: true, log: (m) => logged.push(m) });
		const base = recordings.base('one-way-1')!;
		mjr(`${base}-user-audio.mjr`, 100);
		// The caller's side never sent a packet: Janus wrote only its file's magic (8 bytes, as seen in e2e).
		writeFileSync(`${base}-peer-audio.mjr`, 'MJR00002');
		const wav = await recordings.finish({ callId: 'one-way-1', agentId: '1001', base });
		expect(wav).toBe(recordings.find('one-way-1'));
		expect(statSync(wav!).size).toBeGreaterThan(100 * 160 * 2);
		expect(logged.join('\n')).toContain('peer-audio.mjr not converted');
		// The empty leg stays for a look by hand; the converted one is gone.
		expect(existsSync(`${base}-peer-audio.mjr`)).toBe(true);
		expect(existsSync(`${base}-user-audio.mjr`)).toBe(false);
	});

	it('makes an existing recordings folder of an older version the owner’s only again', () => {
		const dir = join(root, 'old');
		mkdirSync(dir, { mode: 0o755 });
		expect(mode(dir)).toBe(0o755);
		createRecordings({ dir, enabled: true, log: () => {} });
		expect(mode(dir)).toBe(0o700);
	});
});
