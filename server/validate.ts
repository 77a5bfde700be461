/**
 * Request validation with the shared valibot schemas: a failure becomes a 400 `validation` error listing
 * one problem code per field, which the browser shows beside the field in the user's language.
 */
import { validator } from 'hono/validator';
import * as v from 'valibot';
import { AppError } from './errors';

export const validJson = <S extends v.GenericSchema>(schema: S) =>
	validator('json', (value) => parseOrThrow(schema, value));

export const validQuery = <S extends v.GenericSchema>(schema: S) =>
	validator('query', (value) => parseOrThrow(schema, value));

export const validParam = <S extends v.GenericSchema>(schema: S) =>
	validator('param', (value) => parseOrThrow(schema, value));

export function parseOrThrow<S extends v.GenericSchema>(
	schema: S,
	value: unknown
): v.InferOutput<S> {
	const result = v.safeParse(schema, value);
	if (result.success) return result.output;
	const issues: Record<string, string> = {};
	for (const issue of result.issues) {
		const field = v.getDotPath(issue) ?? '_';
		issues[field] ??=
			issue.input === undefined
				? 'required'
				: issue.message.includes(' ')
					? 'invalid'
					: issue.message;
	}
	const field = Object.keys(issues)[0];
	throw new AppError('validation', 400, `Invalid input: ${JSON.stringify(issues)}`, {
		...(field ? { field } : {}),
		issues
	});
}
