// A single-page app: no server rendering; the Hono server serves the shell (200.html) for every page.
export const ssr = false;
export const prerender = false;
