/**
 * What the subscriber routes answer (F16/F18): a search's hits, one subscriber, how many are searchable,
 * and an import's report. A hit is also what the screen pop carries and what a device keeps to recognise a
 * caller offline.
 */
import * as v from 'valibot';
import { CustomerHit, ImportReport, SEARCH_FIELDS } from '../customers/customer';

export { CustomerHit, ImportReport };

/** A search's answer. */
export const CustomerSearchResult = v.object({
	hits: v.array(CustomerHit),
	/** More subscribers match than were returned: the user should narrow the search. */
	more: v.boolean(),
	/** Which fields were searched (auto picks them from the query's shape). */
	fields: v.array(v.picklist(SEARCH_FIELDS.filter((f) => f !== 'auto')))
});
export type CustomerSearchResult = v.InferOutput<typeof CustomerSearchResult>;

/** How many subscribers are searchable now. */
export const CustomerCount = v.object({ count: v.number() });

/**
 * How far a running import is (#17): the file's bytes the server has read and checked, of how many, and the
 * rows so far; `indexing` once every row is stored and the search index catches up; `done` when it answered.
 */
export const ImportProgress = v.object({
	phase: v.picklist(['reading', 'indexing', 'done']),
	bytes: v.number(),
	/** The file's size, when the upload said (null: unknown). */
	total: v.nullable(v.number()),
	rows: v.number()
});
export type ImportProgress = v.InferOutput<typeof ImportProgress>;
