/** The server's welcome and a database's info, without counts that would reveal what others hold. */
import type { Database } from '../store';
import { json } from './answers';
import type { ReplicationPolicy } from './policy';

/** `GET /`: who answers (PouchDB checks it is a CouchDB). */
export const welcome = (instanceId: string) =>
	json({
		couchdb: 'Welcome',
		uuid: instanceId,
		version: '3.3.3',
		vendor: { name: 'guangdian-callcenter' }
	});

/** `GET /<db>`: the name the caller knows and where the database's changes are. */
export const info = async (db: Database, policy: ReplicationPolicy) =>
	json({ db_name: policy.name, update_seq: await db.updateSeq(), instance_start_time: '0' });
