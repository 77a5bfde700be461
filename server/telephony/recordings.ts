/**
 * F32 call recordings: Janus records both directions of an agent's call (started by the app's `/janus`
 * proxy, never by the browser); when the call ends the two G.711 legs are turned into WAV with
 * `janus-pp-rec` and mixed into one playable file with `sox`. A recording is found by the call's SIP
 * Call-ID — the id the ticket keeps — so it belongs to the ticket of that call.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { RecordingStarted } from './janus-proxy';

const run = promisify(execFile);

export function createRecordings(o: {
	dir: string;
	enabled: boolean;
	log: (msg: string) => void;
	/** Told once a call's recording is ready to play. */
	onReady?: (callId: string, file: string) => void;
}) {
	const name = (callId: string) => createHash('sha256').update(callId).digest('hex').slice(0, 40);
	const fileOf = (callId: string) => join(o.dir, `${name(callId)}.wav`);
	if (o.enabled) mkdirSync(o.dir, { recursive: true });

	return {
		enabled: o.enabled,
		/** Where Janus writes a call's legs, or null when calls are not recorded. */
		base(callId: string): string | null {
			return o.enabled ? join(o.dir, `${name(callId)}.legs`) : null;
		},

		/** Both legs → one mixed WAV; the legs are removed once mixed. */
		async finish(r: RecordingStarted): Promise<string | null> {
			const legs = ['user', 'peer']
				.map((side) => `${r.base}-${side}-audio.mjr`)
				.filter((f) => existsSync(f));
			if (legs.length === 0) {
				o.log(`recording of ${r.callId}: Janus wrote no audio`);
				return null;
			}
			const wavs: string[] = [];
			try {
				for (const leg of legs) {
					const wav = leg.replace(/\.mjr$/, '.wav');
					await run('janus-pp-rec', [leg, wav]);
					wavs.push(wav);
				}
				const out = fileOf(r.callId);
				if (wavs.length === 2) await run('sox', ['-m', wavs[0]!, wavs[1]!, out]);
				else await run('sox', [wavs[0]!, out]);
				for (const f of [...legs, ...wavs]) rmSync(f, { force: true });
				o.onReady?.(r.callId, out);
				return out;
			} catch (err) {
				// The legs stay for a later attempt by hand; the call itself is not affected.
				o.log(`recording of ${r.callId} could not be mixed: ${(err as Error).message}`);
				return null;
			}
		},

		/** The playable file of a call, or null. */
		find(callId: string): string | null {
			const file = fileOf(callId);
			return existsSync(file) ? file : null;
		}
	};
}
export type Recordings = ReturnType<typeof createRecordings>;
