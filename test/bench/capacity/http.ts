/**
 * The load generator's HTTP: one keep-alive `http.Agent` per process for all its devices, as a browser
 * keeps its connections open; plain `node:http`, which costs the generator less CPU than `fetch`.
 */
import { Agent, request as httpRequest, type IncomingMessage } from 'node:http';

export interface Answer {
	status: number;
	text: string;
}

export class RequestError extends Error {}

export function createClient(base: string) {
	const url = new URL(base);
	const agent = new Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 4096 });

	function send(
		method: string,
		path: string,
		{
			cookie,
			body,
			timeoutMs = 60_000,
			accept = 'application/json',
			signal
		}: {
			cookie: string;
			body?: unknown;
			timeoutMs?: number;
			accept?: string;
			signal?: AbortSignal;
		}
	): Promise<Answer> {
		return new Promise((resolve, reject) => {
			const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
			const req = httpRequest(
				{
					host: url.hostname,
					port: url.port,
					method,
					path,
					agent,
					headers: {
						cookie,
						accept,
						...(payload
							? { 'content-type': 'application/json', 'content-length': payload.length }
							: {})
					},
					signal
				},
				(res: IncomingMessage) => {
					const chunks: Uint8Array[] = [];
					res.on('data', (c: Uint8Array) => chunks.push(c));
					res.on('end', () =>
						resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') })
					);
					res.on('error', reject);
				}
			);
			req.setTimeout(timeoutMs, () =>
				req.destroy(new RequestError(`timeout after ${timeoutMs} ms`))
			);
			req.on('error', reject);
			req.end(payload);
		});
	}

	/** A request whose answer is a stream (`/events`): `onChunk` for each piece; resolves when it ends. */
	function stream(
		path: string,
		cookie: string,
		onChunk: (text: string) => void,
		signal: AbortSignal
	): Promise<number> {
		return new Promise((resolve, reject) => {
			const req = httpRequest(
				{
					host: url.hostname,
					port: url.port,
					path,
					agent,
					headers: { cookie, accept: 'text/event-stream' },
					signal
				},
				(res) => {
					res.setEncoding('utf8');
					res.on('data', onChunk);
					res.on('end', () => resolve(res.statusCode ?? 0));
					res.on('error', reject);
					res.on('close', () => resolve(res.statusCode ?? 0));
				}
			);
			req.on('error', reject);
			req.end();
		});
	}

	return { send, stream, close: () => agent.destroy(), url: base };
}
export type HttpClient = ReturnType<typeof createClient>;
