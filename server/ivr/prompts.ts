/**
 * Menu prompts: text → speech (espeak-ng, Mandarin `cmn` by default) → 8 kHz mono 16-bit WAV (sox, 3 dB
 * quieter: espeak-ng's output clips once resampled). rtpengine plays that file and transcodes it to each
 * caller's codec. Files are cached by a hash of voice and text, so the same prompt is made once.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';

export interface PromptOptions {
	/** The cache folder (created when missing). */
	dir: string;
	/** espeak-ng's voice; `cmn` = Mandarin. */
	voice?: string;
	espeak?: string;
	sox?: string;
}

export type PromptErrorCode = 'empty_text' | 'missing_tool' | 'failed';

export class PromptError extends Error {
	constructor(
		readonly code: PromptErrorCode,
		message: string
	) {
		super(message);
	}
}

/** Bumped when the output format changes, so old files are not taken for new ones. */
const FORMAT = 'wav-8k-s16-mono-gain-3';

/** Where the prompt for `text` in `voice` is (or will be) cached. */
export function promptPath(text: string, { dir, voice = 'cmn' }: PromptOptions): string {
	const hash = createHash('sha256')
		.update(JSON.stringify([FORMAT, voice, text.trim()]))
		.digest('hex')
		.slice(0, 32);
	return join(dir, `${hash}.wav`);
}

const inFlight = new Map<string, Promise<string>>();

/**
 * The WAV file speaking `text`: the cached one when present, else made now (two calls for the same prompt at
 * once make it once).
 * @throws PromptError `empty_text` (nothing to say), `missing_tool` (espeak-ng or sox not installed, with the
 *   Debian package to install), `failed` (a tool exited with an error; its message included).
 */
export async function synthesize(text: string, options: PromptOptions): Promise<string> {
	if (!text.trim()) throw new PromptError('empty_text', 'a prompt needs text to speak');
	const file = promptPath(text, options);
	if (existsSync(file)) return file;
	const running = inFlight.get(file);
	if (running) return running;
	const making = make(text.trim(), file, options).finally(() => inFlight.delete(file));
	inFlight.set(file, making);
	return making;
}

async function make(text: string, file: string, o: PromptOptions): Promise<string> {
	await mkdir(o.dir, { recursive: true });
	// Temporary names in the same folder, renamed at the end: a reader never sees half a file.
	const stem = join(o.dir, `.${randomBytes(6).toString('hex')}`);
	const raw = `${stem}.raw.wav`;
	const out = `${stem}.wav`;
	try {
		// The text goes in on stdin: as an argument, a text starting with "-" would be read as an option.
		const espeak = o.espeak ?? 'espeak-ng';
		await run(espeak, ['-v', o.voice ?? 'cmn', '-w', raw], 'espeak-ng', text);
		// espeak-ng exits 0 even when it could not write its file: look for the audio itself.
		if (!existsSync(raw) || statSync(raw).size <= 44) {
			throw new PromptError('failed', `${espeak} produced no audio for "${text.slice(0, 40)}"`);
		}
		await run(
			o.sox ?? 'sox',
			[raw, '-r', '8000', '-c', '1', '-b', '16', '-e', 'signed-integer', out, 'gain', '-3'],
			'sox'
		);
		await rename(out, file);
		return file;
	} finally {
		await rm(raw, { force: true });
		await rm(out, { force: true });
	}
}

function run(command: string, args: string[], pkg: string, stdin?: string): Promise<void> {
	return new Promise((resolve, reject) => {
		const child = spawn(command, args, { stdio: ['pipe', 'ignore', 'pipe'] });
		let stderr = '';
		child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
		child.on('error', (err: NodeJS.ErrnoException) =>
			reject(
				err.code === 'ENOENT'
					? new PromptError(
							'missing_tool',
							`${command} is not installed: install the Debian package ${pkg} (apt-get install --no-install-recommends ${pkg})`
						)
					: new PromptError('failed', `${command}: ${err.message}`)
			)
		);
		child.on('close', (code, signal) => {
			if (code === 0) resolve();
			else {
				reject(
					new PromptError('failed', `${command} exited with ${signal ?? code}: ${stderr.trim()}`)
				);
			}
		});
		child.stdin.on('error', () => {});
		child.stdin.end(stdin ?? '');
	});
}
