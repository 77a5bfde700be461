import js from '@eslint/js';
import ts from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import svelteConfig from './svelte.config.js';

/** janus.js is imported by the phone transport only (src/lib/phone/janus-session.ts). */
const janusDoor = ['janus-gateway', 'webrtc-adapter'];
const browserOnlyDoors = [
	'dexie',
	'pouchdb*',
	'$lib/cache/*',
	'$lib/replication/*',
	'$lib/api/*',
	'$lib/phone/janus-session',
	...janusDoor
];
const serverBans = [{ group: ['$lib/*', '$app/*', 'svelte', 'svelte/*'] }];
const storeInternals = [
	{ group: ['nano', 'express-pouchdb'], message: 'Only server/store/ speaks to the store.' }
];

export default ts.config(
	{
		ignores: [
			'build/',
			'.svelte-kit/',
			'node_modules/',
			'data/',
			'scratch/',
			'test-results/',
			'playwright-report/',
			'static/'
		]
	},
	js.configs.recommended,
	...ts.configs.recommended,
	...svelte.configs.recommended,
	prettier,
	...svelte.configs.prettier,
	{
		linterOptions: { reportUnusedDisableDirectives: 'error' },
		languageOptions: { globals: { ...globals.browser, ...globals.node } }
	},
	{
		files: ['**/*.ts', '**/*.svelte', '**/*.svelte.ts'],
		languageOptions: {
			parserOptions: {
				projectService: true,
				extraFileExtensions: ['.svelte'],
				parser: ts.parser,
				svelteConfig
			}
		},
		rules: {
			'@typescript-eslint/no-floating-promises': 'error',
			'@typescript-eslint/no-misused-promises': [
				'error',
				{ checksVoidReturn: { attributes: false } }
			],
			'@typescript-eslint/await-thenable': 'error',
			'@typescript-eslint/require-await': 'error',
			'@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
			'@typescript-eslint/no-unused-vars': [
				'error',
				{ argsIgnorePattern: '^_', varsIgnorePattern: '^_' }
			],
			'require-await': 'off',
			curly: ['error', 'multi-line'],
			'object-shorthand': 'error',
			'svelte/button-has-type': 'error',
			'no-undef': 'off'
		}
	},
	{
		files: ['src/**'],
		ignores: ['src/lib/phone/janus-session.ts'],
		rules: {
			'no-restricted-imports': [
				'error',
				{
					patterns: [
						{ group: janusDoor, message: 'Only $lib/phone/janus-session imports janus.js.' }
					]
				}
			]
		}
	},
	{
		files: ['src/lib/shared/**'],
		rules: {
			'no-restricted-imports': [
				'error',
				{
					patterns: [
						'svelte',
						'svelte/*',
						'$app/*',
						'$lib/*',
						'dexie',
						'pouchdb*',
						'hono',
						'hono/*',
						'node:*'
					]
				}
			],
			'no-restricted-globals': ['error', 'window', 'document', 'localStorage', 'indexedDB']
		}
	},
	{
		files: ['src/lib/components/**', 'src/routes/**'],
		rules: {
			'no-restricted-imports': [
				'error',
				{
					patterns: [
						{
							group: browserOnlyDoors,
							message: 'Components and routes go through $lib/data and $lib/state.',
							allowTypeImports: true
						}
					]
				}
			]
		}
	},
	{
		files: ['server/**'],
		rules: {
			'no-restricted-imports': ['error', { patterns: serverBans }]
		}
	},
	{
		// The store speaks CouchDB's protocol for everyone else (server/store/index.ts).
		files: ['server/**'],
		ignores: ['server/store/**'],
		rules: {
			'no-restricted-imports': ['error', { patterns: [...serverBans, ...storeInternals] }]
		}
	},
	{
		// Routes → services → store: a route reads and writes through services only.
		files: ['server/routes/**'],
		rules: {
			'no-restricted-imports': [
				'error',
				{
					patterns: [
						...serverBans,
						...storeInternals,
						{ group: ['**/store', '**/store/*'], message: 'Routes call services, not the store.' }
					]
				}
			]
		}
	},
	{
		// Design-document functions are plain ES5 scripts evaluated by CouchDB's engine, not modules.
		files: ['sync/ddocs/**/*.js'],
		languageOptions: {
			sourceType: 'script',
			ecmaVersion: 5,
			globals: { emit: 'readonly', log: 'readonly', sum: 'readonly', toJSON: 'readonly' }
		},
		rules: {
			'no-unused-vars': 'off',
			'@typescript-eslint/no-unused-vars': 'off',
			'svelte/no-inner-declarations': 'off',
			'no-var': 'off'
		}
	},
	{
		files: ['scripts/**/*.mjs', '*.config.js'],
		languageOptions: { globals: globals.node }
	}
);
