/**
 * The server's own state on the wire, and configuration documents as the administration API answers them:
 * `GET /api/config` (what a signed-in browser needs to know of this server; `GET /api/health` is in
 * `health.ts`), and the documents of `/api/admin/config/<type>`.
 */
import * as v from 'valibot';
import { CONFIG_DOCS } from '../docs/config';

export const TELEPHONY_STATES = ['off', 'unavailable', 'running'] as const;

/** `GET /api/config`: this server's version, languages, telephony and the offline window (F27). */
export const ServerConfig = v.object({
	version: v.string(),
	locales: v.array(v.string()),
	defaultLocale: v.string(),
	telephony: v.picklist(TELEPHONY_STATES),
	/** How many days of tickets a browser keeps for offline work. */
	syncWindowDays: v.number(),
	/** The hotline numbers this center answers (HOTLINES). */
	hotlines: v.optional(v.array(v.string()), []),
	/** #18 those whose callers hear the voice menu first (IVR_HOTLINES). */
	voiceMenuHotlines: v.optional(v.array(v.string()), [])
});
export type ServerConfig = v.InferOutput<typeof ServerConfig>;

/**
 * A configuration document as stored: a document of another version may carry fields this one does not
 * know, which are passed on as they are.
 */
export const ConfigItem = v.variant(
	'type',
	CONFIG_DOCS.map((schema) => v.looseObject(schema.entries))
);

/** The documents of one configuration type. */
export const ConfigItems = v.object({ items: v.array(ConfigItem) });

/** A document just created or changed (with its new revision). */
export const ChangedConfigItem = v.object({ item: ConfigItem });
