/**
 * The server's own figures (`GET /api/metrics`): memory, CPU, event-loop utilisation and delay since the
 * previous read, and the store operations it called. Reading resets the event-loop window, so a sampler that
 * reads every few seconds gets each interval's figures.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { Metrics } from '#shared/wire/metrics';
import type { Store } from '../store';

export type ServerMetrics = ReturnType<typeof createMetrics>;

export function createMetrics(
	store: Pick<Store, 'operations' | 'writes'>,
	feeds: () => Metrics['feeds'] = () => ({})
) {
	const delay = monitorEventLoopDelay({ resolution: 10 });
	delay.enable();
	let since = performance.eventLoopUtilization();
	const ms = (ns: number) => (Number.isFinite(ns) ? Math.round(ns / 1e4) / 100 : 0);
	return {
		read(): Metrics {
			const now = performance.eventLoopUtilization();
			const window = performance.eventLoopUtilization(now, since);
			since = now;
			const memory = process.memoryUsage();
			const cpu = process.cpuUsage();
			const figures: Metrics = {
				uptimeSeconds: Math.round(process.uptime()),
				memory: { rssBytes: memory.rss, heapUsedBytes: memory.heapUsed },
				cpu: { userMs: Math.round(cpu.user / 1000), systemMs: Math.round(cpu.system / 1000) },
				eventLoop: {
					utilization: Math.round(window.utilization * 1000) / 1000,
					delayMs: {
						p50: ms(delay.percentile(50)),
						p99: ms(delay.percentile(99)),
						max: ms(delay.max)
					}
				},
				feeds: feeds(),
				store: { operations: store.operations(), writes: store.writes() }
			};
			delay.reset();
			return figures;
		},
		close() {
			delay.disable();
		}
	};
}
