/**
 * F32 call recordings: Janus records both directions of an agent's call (started by the app's `/janus`
 * proxy, never by the browser); when the call ends the two G.711 legs are turned into WAV with
 * `janus-pp-rec` and mixed into one playable file with `sox`. A hotline call's recording is found by the
 * call's SIP Call-ID as the ACD recorded it — the id the ticket keeps — so it belongs to the ticket of that
 * call. Calls the ACD does not know (agent to agent, outbound) are recorded under a name of their own leg,
 * never under a Call-ID someone on the line chose, so no call can overwrite another's recording.
 * Recordings are the owner's only: the folder 0700, every file 0600.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makePrivate, privateFolder } from '../secrets';

const run = promisify(execFile);
/** Janus writes `<file>.tmp` and renames it when the call's media ends (`recordings_tmp_ext`). */
const CLOSE_WAIT_MS = 10_000;

export interface RecordingStarted {
	/** The ACD's hotline call (its SIP Call-ID), or null for a call the ACD does not know. */
	callId: string | null;
	agentId: string;
	/** Janus's files are `<base>-user-audio.mjr` and `<base>-peer-audio.mjr`. */
	base: string;
}

export function createRecordings(o: {
	dir: string;
	enabled: boolean;
	log: (msg: string) => void;
	/** Told once a hotline call's recording is ready to play. */
	onReady?: (callId: string, file: string) => void;
}) {
	const name = (callId: string) => createHash('sha256').update(callId).digest('hex').slice(0, 40);
	const fileOf = (callId: string) => join(o.dir, `${name(callId)}.wav`);
	if (o.enabled) privateFolder(o.dir);

	/** Waits until Janus has closed the legs (no `.tmp` left), or gives up after CLOSE_WAIT_MS. */
	async function closed(base: string) {
		const deadline = Date.now() + CLOSE_WAIT_MS;
		const open = () => ['user', 'peer'].some((side) => existsSync(`${base}-${side}-audio.mjr.tmp`));
		while (open() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
	}

	return {
		enabled: o.enabled,
		/** Where Janus writes the legs of the ACD's hotline call `callId`, or null when not recording. */
		base(callId: string): string | null {
			return o.enabled ? join(o.dir, `${name(callId)}.legs`) : null;
		},
		/** Where Janus writes one agent's leg of a call the ACD does not know: a name no other leg has. */
		legBase(agentId: string): string | null {
			if (!o.enabled) return null;
			const unique = `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
			return join(o.dir, `leg-${agentId.replace(/[^0-9A-Za-z]/g, '')}-${unique}.legs`);
		},

		/**
		 * Both legs → one mixed WAV (one leg alone when the other holds no audio); the legs are removed once
		 * mixed.
		 */
		async finish(r: RecordingStarted): Promise<string | null> {
			const what = r.callId ?? `${r.agentId}'s call`;
			await closed(r.base);
			const legs = ['user', 'peer']
				.map((side) => `${r.base}-${side}-audio.mjr`)
				.filter((f) => existsSync(f));
			legs.forEach(makePrivate);
			if (legs.length === 0) {
				o.log(`recording of ${what}: Janus wrote no audio`);
				return null;
			}
			// Each leg on its own: one that holds no audio (the other side never sent any — a one-way call)
			// leaves the recording to the other, and stays on disk for a look by hand.
			const wavs: string[] = [];
			const failed: string[] = [];
			for (const leg of legs) {
				const wav = leg.replace(/\.mjr$/, '.wav');
				try {
					await run('janus-pp-rec', [leg, wav]);
					// Without a packet janus-pp-rec writes nothing and still says it is done.
					if (!existsSync(wav)) throw new Error('no audio in it');
					wavs.push(wav);
				} catch (err) {
					rmSync(wav, { force: true });
					failed.push(leg);
					o.log(`recording of ${what}: ${leg} not converted: ${(err as Error).message}`);
				}
			}
			if (wavs.length === 0) return null;
			try {
				const out = r.callId ? fileOf(r.callId) : r.base.replace(/\.legs$/, '.wav');
				if (wavs.length === 2) await run('sox', ['-m', wavs[0]!, wavs[1]!, out]);
				else await run('sox', [wavs[0]!, out]);
				makePrivate(out);
				for (const f of [...legs.filter((l) => !failed.includes(l)), ...wavs]) {
					rmSync(f, { force: true });
				}
				if (r.callId) o.onReady?.(r.callId, out);
				return out;
			} catch (err) {
				// The legs stay for a later attempt by hand; the call itself is not affected.
				wavs.forEach(makePrivate);
				o.log(`recording of ${what} could not be mixed: ${(err as Error).message}`);
				return null;
			}
		},

		/** The playable file of a hotline call, or null. */
		find(callId: string): string | null {
			const file = fileOf(callId);
			return existsSync(file) ? file : null;
		}
	};
}
export type Recordings = ReturnType<typeof createRecordings>;
