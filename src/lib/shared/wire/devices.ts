/**
 * Devices on the wire (DESIGN.md: device codes, sync health): the code a browser numbers its tickets with,
 * the report each device sends about its replica, and what administrators read back (同步状态) — every
 * device's last report and the conflicts the union-of-events rule could not merge.
 */
import * as v from 'valibot';

/** `POST /api/devices`: this device's code, asked for once. */
export const DeviceCode = v.object({ code: v.string() });

/** What a device reports about its replica (F28/F29 sync health, for administrators). */
export const DeviceReport = v.object({
	pending: v.pipe(v.number(), v.integer(), v.minValue(0)),
	held: v.pipe(v.number(), v.integer(), v.minValue(0)),
	refused: v.pipe(v.number(), v.integer(), v.minValue(0)),
	lastSyncedAt: v.nullable(v.pipe(v.string(), v.isoTimestamp())),
	client: v.pipe(v.string(), v.maxLength(200))
});
export type DeviceReport = v.InferOutput<typeof DeviceReport>;

/** One device's last report from one user (a workstation's code is shared by whoever signs in on it). */
export const DeviceHealth = v.object({
	code: v.string(),
	userId: v.string(),
	/** When the server last heard from the device. */
	seenAt: v.string(),
	lastSyncedAt: v.nullable(v.string()),
	pending: v.number(),
	refused: v.number(),
	held: v.number(),
	client: v.string()
});
export type DeviceHealth = v.InferOutput<typeof DeviceHealth>;

export const DeviceHealthList = v.object({ devices: v.array(DeviceHealth) });

/** A conflict the union-of-events rule could not merge, set aside for administrators. */
export const UnresolvedConflict = v.object({
	type: v.literal('conflict'),
	docId: v.string(),
	at: v.string(),
	reason: v.string(),
	/** The winning revision first, then each conflicting one, as stored. */
	versions: v.array(v.looseObject({}))
});
export type UnresolvedConflict = v.InferOutput<typeof UnresolvedConflict>;

export const ConflictList = v.object({ conflicts: v.array(UnresolvedConflict) });
