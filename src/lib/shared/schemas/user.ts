/**
 * Account shapes shared by the registration form, the server's validators and the admin screens.
 * Problems are reported as codes (`v.message`) that the browser translates (`validation.<code>`).
 */
import * as v from 'valibot';

export const USERNAME_PATTERN = /^[\p{L}\p{N}._-]+$/u;

/** User names are unique regardless of letter case, width and surrounding spaces. */
export function normalizeUsername(username: string): string {
	return username.normalize('NFKC').trim().toLowerCase();
}

/** A user's document id: the user name, normalised (so a name is unique whatever its case and width). */
export const userIdOf = (username: string) => `user:${normalizeUsername(username)}`;

const trimmed = (max: number, code = 'too_long') =>
	v.pipe(v.string('required'), v.trim(), v.maxLength(max, code));

export const Username = v.pipe(
	v.string('required'),
	v.normalize('NFKC'),
	v.trim(),
	v.nonEmpty('required'),
	v.minLength(2, 'too_short'),
	v.maxLength(32, 'too_long'),
	v.regex(USERNAME_PATTERN, 'username_chars')
);

export const Password = v.pipe(
	v.string('required'),
	v.nonEmpty('required'),
	v.minLength(8, 'password_short'),
	v.maxLength(128, 'too_long')
);

/** `YYYY-MM-DD`, a real calendar day, not in the future and not absurdly old. */
export const BirthDate = v.pipe(
	v.string('required'),
	v.nonEmpty('required'),
	v.isoDate('date_invalid'),
	v.check((s) => {
		const d = new Date(`${s}T00:00:00Z`);
		return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
	}, 'date_invalid'),
	v.check((s) => s <= new Date().toISOString().slice(0, 10), 'date_future'),
	v.check((s) => s >= '1900-01-01', 'date_invalid')
);

export const Phone = v.pipe(
	trimmed(32),
	v.nonEmpty('required'),
	v.regex(/^\+?[\d\s()-]{3,32}$/, 'phone_invalid')
);

/** The personal fields of the registration form (F2), also used when an administrator adds a user (F4). */
const PersonFields = {
	username: Username,
	name: v.pipe(trimmed(50), v.nonEmpty('required')),
	departmentId: v.pipe(v.string('required'), v.nonEmpty('required'), v.maxLength(80, 'too_long')),
	birthDate: BirthDate,
	phone: Phone,
	email: v.optional(
		v.union(
			[
				v.literal(''),
				v.pipe(v.string(), v.trim(), v.maxLength(120, 'too_long'), v.email('email_invalid'))
			],
			'email_invalid'
		),
		''
	)
};

export const Registration = v.object({ ...PersonFields, password: Password });
export type Registration = v.InferOutput<typeof Registration>;

export const SignIn = v.object({
	username: v.pipe(
		v.string('required'),
		v.trim(),
		v.nonEmpty('required'),
		v.maxLength(64, 'too_long')
	),
	password: v.pipe(v.string('required'), v.nonEmpty('required'), v.maxLength(128, 'too_long'))
});

export const PasswordChange = v.object({
	currentPassword: v.pipe(
		v.string('required'),
		v.nonEmpty('required'),
		v.maxLength(128, 'too_long')
	),
	newPassword: Password
});

/** 工号: 3–8 digits, unique among accounts (F7). */
export const AgentId = v.pipe(
	v.string('required'),
	v.trim(),
	v.regex(/^\d{3,8}$/, 'agent_id_format')
);

export const Approval = v.object({
	roleId: v.pipe(v.string('required'), v.nonEmpty('required'), v.maxLength(80, 'too_long')),
	agentId: v.optional(v.union([v.literal(''), AgentId], 'agent_id_format'), '')
});

/** F4: an administrator adds a user with the registration form, without a password (one is issued). */
export const NewUser = v.object({
	...PersonFields,
	roleId: v.pipe(v.string('required'), v.nonEmpty('required'), v.maxLength(80, 'too_long')),
	agentId: v.optional(v.union([v.literal(''), AgentId], 'agent_id_format'), '')
});
export type NewUser = v.InferOutput<typeof NewUser>;

export const USER_SORTS = [
	'username',
	'name',
	'department',
	'role',
	'status',
	'agentId',
	'createdAt'
] as const;
export type UserSort = (typeof USER_SORTS)[number];

export const UserQuery = v.object({
	q: v.optional(v.pipe(v.string(), v.trim(), v.maxLength(64, 'too_long')), ''),
	departmentId: v.optional(v.pipe(v.string(), v.maxLength(80)), ''),
	roleId: v.optional(v.pipe(v.string(), v.maxLength(80)), ''),
	status: v.optional(v.picklist(['', 'pending', 'active', 'disabled']), ''),
	sort: v.optional(v.picklist(USER_SORTS), 'username'),
	dir: v.optional(v.picklist(['asc', 'desc']), 'asc'),
	page: v.optional(v.pipe(v.string(), v.transform(Number), v.integer(), v.minValue(1)), '1'),
	pageSize: v.optional(
		v.pipe(v.string(), v.transform(Number), v.integer(), v.minValue(1), v.maxValue(200)),
		'50'
	)
});
export type UserQuery = v.InferOutput<typeof UserQuery>;

export const AgentIdChange = v.object({
	_rev: v.pipe(v.string('required'), v.nonEmpty('required')),
	agentId: v.union([v.literal(''), AgentId], 'agent_id_format')
});

export const StatusChange = v.object({ status: v.picklist(['active', 'disabled'], 'invalid') });

export const PermissionsChange = v.object({
	_rev: v.pipe(v.string('required'), v.nonEmpty('required')),
	permissions: v.array(v.pipe(v.string(), v.maxLength(40))),
	roleId: v.nullable(v.pipe(v.string(), v.maxLength(80)))
});
