/**
 * F1 desk phones (本座位旁话机): SIP phones beside the seats, which the ACD rings instead of an agent's
 * browser. Each extension registers at Kamailio with digest credentials the administrator issued for that
 * phone — never on the strength of its network address. Kept server-only in the `users` database as
 * `deskphone:<extension>` (browsers replicate `config` and `tickets` only, branches `user:` documents only),
 * holding the HA1 md5(extension:realm:password) Kamailio checks digests with; the password itself is shown
 * to the administrator once and stored nowhere.
 */
import { createHash, randomBytes } from 'node:crypto';
import { AppError, storeStatus } from '../errors';
import type { NewDeskPhone } from '#shared/schemas/desk-phone';
import type { DeskPhone } from '#shared/wire/desk-phones';
import type { Store } from '../store';
import type { Audit } from './audit';

interface DeskPhoneDoc extends DeskPhone {
	_id: string;
	_rev?: string;
	type: 'deskPhone';
	ha1: string;
}

const PREFIX = 'deskphone:';
const EXTENSION = /^\d{2,20}$/;
export const deskPhoneId = (extension: string) => `${PREFIX}${extension}`;

/** The digest's HA1 (RFC 2617): what Kamailio needs to check a phone's or agent's credentials. */
export const digestHa1 = (user: string, realm: string, password: string) =>
	createHash('md5').update(`${user}:${realm}:${password}`).digest('hex');

const summary = (d: DeskPhoneDoc): DeskPhone => ({
	extension: d.extension,
	label: d.label,
	createdAt: d.createdAt,
	passwordSetAt: d.passwordSetAt
});

export function createDeskPhones(o: { store: Store; audit: Audit; realm: string }) {
	const db = o.store.db<DeskPhoneDoc>('users');

	/** An agent's ID is that agent's SIP identity: no phone may register under it. */
	async function isAgentId(extension: string): Promise<boolean> {
		const rows = await db.view('users_by_agent_id', { key: extension, limit: 1 });
		return rows.rows.length > 0;
	}

	async function get(extension: string): Promise<DeskPhoneDoc> {
		const doc = EXTENSION.test(extension)
			? await db.get(deskPhoneId(extension)).catch(() => null)
			: null;
		if (!doc || doc.type !== 'deskPhone') {
			throw new AppError('not_found', 404, `No desk phone ${extension}`);
		}
		return doc;
	}

	const newPassword = () => randomBytes(12).toString('base64url');

	return {
		async list(): Promise<DeskPhone[]> {
			const res = await db.allDocs({
				startkey: PREFIX,
				endkey: `${PREFIX}\ufff0`,
				include_docs: true
			});
			return res.rows
				.flatMap((r) => (r.doc?.type === 'deskPhone' ? [summary(r.doc)] : []))
				.sort(
					(a, b) =>
						a.extension.length - b.extension.length || a.extension.localeCompare(b.extension)
				);
		},

		/** Issues a phone's credentials; the password is returned this once. */
		async add(input: NewDeskPhone, actor: string): Promise<{ phone: DeskPhone; password: string }> {
			if (await isAgentId(input.extension)) {
				throw new AppError('validation', 409, 'This number is an agent ID', {
					field: 'extension',
					issues: { extension: 'extension_is_agent' }
				});
			}
			const password = newPassword();
			const now = new Date().toISOString();
			const doc: DeskPhoneDoc = {
				_id: deskPhoneId(input.extension),
				type: 'deskPhone',
				extension: input.extension,
				label: input.label,
				ha1: digestHa1(input.extension, o.realm, password),
				createdAt: now,
				passwordSetAt: now
			};
			try {
				await db.insert(doc);
			} catch (err) {
				if (storeStatus(err) === 409) {
					throw new AppError('validation', 409, 'This extension exists', {
						field: 'extension',
						issues: { extension: 'extension_taken' }
					});
				}
				throw err;
			}
			await o.audit.record({
				actor,
				action: 'deskPhone.add',
				target: doc._id,
				after: { extension: doc.extension, label: doc.label }
			});
			return { phone: summary(doc), password };
		},

		/** A new password (the old one stops working at the phone's next registration). */
		async resetPassword(extension: string, actor: string): Promise<string> {
			const doc = await get(extension);
			const password = newPassword();
			await db.insert({
				...doc,
				ha1: digestHa1(doc.extension, o.realm, password),
				passwordSetAt: new Date().toISOString()
			});
			await o.audit.record({ actor, action: 'deskPhone.passwordReset', target: doc._id });
			return password;
		},

		async remove(extension: string, actor: string): Promise<void> {
			const doc = await get(extension);
			await db.destroy(doc._id, doc._rev!);
			await o.audit.record({
				actor,
				action: 'deskPhone.delete',
				target: doc._id,
				before: summary(doc)
			});
		},

		/** Kamailio's question: the HA1 of this extension's phone, or null (none, or an agent's ID). */
		async ha1Of(extension: string): Promise<string | null> {
			if (!EXTENSION.test(extension)) return null;
			const doc = await db.get(deskPhoneId(extension)).catch(() => null);
			if (!doc || doc.type !== 'deskPhone' || (await isAgentId(extension))) return null;
			return doc.ha1;
		}
	};
}
export type DeskPhones = ReturnType<typeof createDeskPhones>;
