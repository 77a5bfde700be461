/** Entry point: settings → runtime → HTTP server, a start banner, graceful shutdown. */
import { serve } from '@hono/node-server';
import { existsSync } from 'node:fs';
import { SettingsError, loadSettings } from './settings';
import { createRuntime } from './runtime';
import { hardenServer, serverOptions } from './app';

async function main() {
	const settings = loadSettings();
	const runtime = await createRuntime(settings);
	const { deps } = runtime;
	const server = serve(
		{
			fetch: runtime.app.fetch,
			port: settings.port,
			hostname: settings.host,
			serverOptions: serverOptions(settings)
		},
		(info) =>
			void runtime
				.startTelephony(info.port)
				.then(() => banner(info.port))
				.catch((err: unknown) => {
					console.error(`Telephony could not start (TELEPHONY=on): ${(err as Error).message}`);
					void runtime.close().then(() => process.exit(1));
				})
	);
	function banner(port: number) {
		{
			const shown =
				settings.host === '0.0.0.0' || settings.host === '::' ? 'localhost' : settings.host;
			const lines = [
				'',
				'  广电呼叫中心 / Call center ' + deps.version,
				`  URL:       http://${shown}:${port}/` +
					(shown === 'localhost' ? '  (all interfaces)' : ''),
				`  Store:     ${deps.storeKind === 'embedded' ? `embedded (${settings.dataDir}/store)` : 'Apache CouchDB (COUCHDB_URL)'}`,
				`  Telephony: ${deps.telephony().state} — ${deps.telephony().detail}`,
				`  Web app:   ${deps.settings.webDir && existsSync(deps.settings.webDir) ? deps.settings.webDir : 'not built (run npm run build)'}`
			];
			if (settings.center) {
				lines.push(
					`  Branch:    ${settings.center.name} of ${settings.center.url} — sign in with the center's accounts`
				);
			} else if (settings.branches.length > 0) {
				lines.push(`  Branches:  ${settings.branches.map((b) => b.name).join(', ')} (/replicate)`);
			}
			if (runtime.firstAdmin) {
				lines.push(
					'',
					'  First administrator:  user name  admin',
					runtime.firstAdmin.oneTime
						? `                        password   ${runtime.firstAdmin.password}   (one-time: change it at first sign-in; shown only now)`
						: '                        password   the value of ADMIN_PASSWORD'
				);
			}
			console.log(lines.join('\n') + '\n');
		}
	}

	hardenServer(server);
	server.on('upgrade', runtime.upgrade);
	server.on('error', (err: NodeJS.ErrnoException) => {
		console.error(
			err.code === 'EADDRINUSE'
				? `Port ${settings.port} on ${settings.host} is already in use: stop the other program or set PORT.`
				: `The HTTP server failed: ${err.message}`
		);
		void runtime.close().then(() => process.exit(1));
	});

	let stopping = false;
	const stop = (signal: string) => {
		if (stopping) return;
		stopping = true;
		console.log(`${signal}: shutting down`);
		server.close();
		void runtime.close().then(() => process.exit(0));
		setTimeout(() => process.exit(0), 3_000).unref();
	};
	process.on('SIGINT', () => stop('SIGINT'));
	process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
	console.error(err instanceof SettingsError ? err.message : err);
	process.exit(1);
});
