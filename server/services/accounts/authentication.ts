/**
 * Signing in and changing one's password: the password is checked first, then the account's state, so
 * strangers learn nothing about an account (an unknown name costs the same hash as a known one).
 */
import { AppError } from '../../errors';
import type { Audit } from '../audit';
import { dummyHash, hashPassword, verifyPassword } from './passwords';
import { userIdOf, type UserDoc, type UserStore } from './users';

export function createAuthentication({ users, audit }: { users: UserStore; audit: Audit }) {
	return {
		/** @throws AppError invalid_credentials, account_pending, account_disabled */
		async authenticate(username: string, password: string): Promise<UserDoc> {
			const user = await users.get(userIdOf(username));
			const ok = await verifyPassword(user?.passwordHash ?? (await dummyHash()), password);
			if (!user || !ok) {
				throw new AppError('invalid_credentials', 401, 'Wrong user name or password');
			}
			if (user.status === 'pending') {
				throw new AppError('account_pending', 403, 'The account waits for an administrator');
			}
			if (user.status === 'disabled') {
				throw new AppError('account_disabled', 403, 'The account is disabled');
			}
			return user;
		},

		/** @throws AppError invalid_credentials (the current one is wrong), validation (the same one) */
		async changePassword(user: UserDoc, current: string, next: string): Promise<UserDoc> {
			if (!(await verifyPassword(user.passwordHash, current))) {
				throw new AppError('invalid_credentials', 400, 'The current password is wrong', {
					field: 'currentPassword',
					issues: { currentPassword: 'password_wrong' }
				});
			}
			if (current === next) {
				throw new AppError('validation', 400, 'Choose a new password', {
					field: 'newPassword',
					issues: { newPassword: 'password_same' }
				});
			}
			const saved = await users.save({
				...user,
				passwordHash: await hashPassword(next),
				mustChangePassword: false
			});
			await audit.record({ actor: user._id, action: 'user.password.change', target: user._id });
			return saved;
		}
	};
}
