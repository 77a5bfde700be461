/**
 * Photos kept as their own immutable documents `att:<ticket>:<id>` beside their ticket (DESIGN.md,
 * Attachments): what the tablet writes and the server accepts.
 */

/** The image types a photo may have. */
export const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp'] as const;
export type PhotoType = (typeof PHOTO_TYPES)[number];

export const isPhotoType = (type: unknown): type is PhotoType =>
	(PHOTO_TYPES as readonly unknown[]).includes(type);

/** A photo's bytes as base64 may be at most this long (≈ 4 MB of image); the tablet scales photos down. */
export const ATTACHMENT_MAX_BASE64 = 5_600_000;

/** The bytes a photo's base64 text stands for. */
export const base64Bytes = (data: string) =>
	Math.floor((data.length * 3) / 4) - (data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0);

/**
 * What one user's devices may upload in photos per day (the center's day, UTC+8). A tablet scales a photo to
 * about 0.3 MB, so a crew's busiest day stays far below; a device that would fill the server does not.
 */
export const ATTACHMENT_DAILY_COUNT = 400;
export const ATTACHMENT_DAILY_BYTES = 400 * 1024 * 1024;

/**
 * An attachment document: one file named `photo`, its data a Blob in the browser or base64 over the wire.
 * `Name` is widened only by tests that send what the server must refuse.
 */
export interface AttachmentDoc<Data = Blob, Name extends string = 'photo'> {
	_id: string;
	_rev?: string;
	type: 'att';
	ticketId: string;
	by: string;
	at: string;
	updatedAt: string;
	visibleTo: string[];
	_attachments: Record<Name, { content_type: string; data: Data }>;
}
