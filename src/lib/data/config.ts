/** Configuration for the UI, always from this device's replica (so it is readable offline). */
import { onConfigChange, readAllConfig } from '$lib/replication/config-db';

export const readAll = () => readAllConfig();
export { onConfigChange };
