/**
 * The thread that writes an import's subscribers into the search index (`customer-index-writer.ts`): its
 * own SQLite connection on the same file, one transaction per batch, so the B-tree and full-text inserts —
 * most of an import's work — run beside the store's writes instead of in the server's thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Customer } from '#shared/customers/customer';
import { openCustomerIndex } from './customer-index';

export type ToWriter = { docs: Customer[] } | { close: true };
export type FromWriter = { indexed: number } | { error: string } | { closed: true };

const port = parentPort!;
const index = openCustomerIndex((workerData as { file: string }).file, { bulk: true });
const send = (message: FromWriter) => port.postMessage(message);

port.on('message', (message: ToWriter) => {
	try {
		if ('close' in message) {
			index.checkpoint();
			index.close();
			send({ closed: true });
			return;
		}
		index.index(message.docs);
		send({ indexed: message.docs.length });
	} catch (err) {
		send({ error: (err as Error).message });
	}
});
