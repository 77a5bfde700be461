/** Configuration for the UI, always from this device's replica (so it is readable offline). */
import { onConfigChange, readConfig } from '$lib/replication/config-db';
import type { DepartmentDoc, RoleDoc } from '#shared/docs/config';

export const departments = () => readConfig<DepartmentDoc>('department');
export const roles = () => readConfig<RoleDoc>('role');
export { onConfigChange };
