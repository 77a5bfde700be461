import adapter from '@sveltejs/adapter-static';
import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

/** @type {import('@sveltejs/kit').Config} */
const config = {
	preprocess: vitePreprocess(),
	kit: {
		// A single-page PWA served by the Hono server (server/app.ts) on the same origin as /api and /sync.
		adapter: adapter({
			pages: 'build/web',
			assets: 'build/web',
			fallback: '200.html',
			strict: true,
			// #15: every file also as .br and .gz, which the server sends to browsers that take them.
			precompress: true
		}),
		serviceWorker: { register: false },
		typescript: {
			config: (tsconfig) => {
				tsconfig.include.push(
					'../server/**/*.ts',
					'../sync/**/*.ts',
					'../test/**/*.ts',
					'../scripts/**/*.ts',
					'../*.ts'
				);
				return tsconfig;
			}
		}
	}
};

export default config;
