/** The server's welcome and a database's info, without counts that would reveal what others hold. */
import type { Database } from '../store';
import { json } from './answers';
import type { FeedHub } from './feed-hub';
import type { ReplicationPolicy } from './policy';

/** `GET /`: who answers (PouchDB checks it is a CouchDB). */
export const welcome = (instanceId: string) =>
	json({
		couchdb: 'Welcome',
		uuid: instanceId,
		version: '3.3.3',
		vendor: { name: 'guangdian-callcenter' }
	});

/**
 * `GET /<db>`: the name the caller knows and where the database's changes are — the hub's position when it
 * serves the feed (PouchDB asks after every batch it pulls; that costs the store nothing then).
 */
export const info = async (db: Database, policy: ReplicationPolicy, hub?: FeedHub) =>
	json({
		db_name: policy.name,
		update_seq: hub ? (await hub.ready, hub.updateSeq()) : await db.updateSeq(),
		instance_start_time: '0'
	});
