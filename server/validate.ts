/**
 * Request validation with the shared valibot schemas, as route middleware: a failure becomes a 400
 * `validation` error listing one problem code per field, which the browser shows beside the field in the
 * user's language. Each validator also tells the OpenAPI document what its route reads (`openapi.ts`).
 */
import { validator } from 'hono/validator';
import * as v from 'valibot';
import { AppError } from './errors';
import { documentsInput } from './openapi';

export const validJson = <S extends v.GenericSchema>(schema: S) =>
	documentsInput(
		validator('json', (value) => parseOrThrow(schema, value)),
		'json',
		schema
	);

export const validQuery = <S extends v.GenericSchema>(schema: S) =>
	documentsInput(
		validator('query', (value) => parseOrThrow(schema, value)),
		'query',
		schema
	);

export const validParam = <S extends v.GenericSchema>(schema: S) =>
	documentsInput(
		validator('param', (value) => parseOrThrow(schema, value)),
		'param',
		schema
	);

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
