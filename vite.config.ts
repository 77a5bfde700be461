import { sveltekit } from '@sveltejs/kit/vite';
import { SvelteKitPWA } from '@vite-pwa/sveltekit';
import { defineConfig } from 'vitest/config';

export default defineConfig({
	plugins: [
		sveltekit(),
		SvelteKitPWA({
			registerType: 'autoUpdate',
			injectRegister: false,
			manifest: {
				name: '广电呼叫中心',
				short_name: '呼叫中心',
				description: '广电呼叫中心与业务工单系统',
				lang: 'zh-CN',
				start_url: '/',
				display: 'standalone',
				background_color: '#ffffff',
				theme_color: '#1d4ed8',
				icons: [
					{ src: '/icons/icon-192.png', sizes: '192x192', type: 'image/png' },
					{ src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png' },
					{ src: '/icons/icon-512.png', sizes: '512x512', type: 'image/png', purpose: 'maskable' }
				]
			},
			kit: { adapterFallback: '200.html', spa: true },
			workbox: {
				globPatterns: ['client/**/*.{js,css,ico,png,svg,webp,woff2,webmanifest}'],
				// The service worker must never answer the server's own paths with the app shell.
				navigateFallbackDenylist: [/^\/api/, /^\/sync/, /^\/events/],
				clientsClaim: true,
				skipWaiting: true
			}
		})
	],
	test: {
		expect: { requireAssertions: true },
		projects: [
			{
				extends: true,
				test: {
					name: 'server',
					environment: 'node',
					include: ['src/**/*.test.ts', 'server/**/*.test.ts'],
					exclude: ['src/**/*.svelte.test.ts'],
					setupFiles: ['test/setup/node.ts']
				}
			},
			{
				extends: true,
				test: { name: 'sync', environment: 'node', include: ['test/sync/**/*.test.ts'] }
			},
			{
				extends: true,
				test: {
					name: 'integration',
					environment: 'node',
					include: ['test/integration/**/*.test.ts'],
					testTimeout: 60_000,
					hookTimeout: 60_000,
					fileParallelism: false
				}
			},
			{
				// #16: only against a real Apache CouchDB (`npm run test:couchdb`, which names it).
				extends: true,
				test: {
					name: 'couchdb',
					environment: 'node',
					include: ['test/couchdb/**/*.test.ts'],
					testTimeout: 60_000,
					hookTimeout: 60_000,
					fileParallelism: false
				}
			}
		]
	}
});
