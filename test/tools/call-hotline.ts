/**
 * Plays the carrier calling a hotline, for trying the product by hand (README): sipp sends the call from
 * 127.0.0.1 (a trunk by default), echoes the agent's audio back, and ends when the agent hangs up.
 *   npm run call:hotline -- [hotline=96000] [kamailio=127.0.0.1:5060] [keys]
 * With keys (e.g. `11`), the caller of a hotline with a voice menu (IVR_HOTLINES) listens to the greeting for
 * two seconds, then presses them one after the other (SIP INFO).
 */
import { callerEchoScenario, callerMenuScenario, runSipp } from '../helpers/sipp';

const [hotline = '96000', target = `127.0.0.1:${process.env.SIP_PORT ?? 5060}`, keys = ''] =
	process.argv.slice(2);
const caller = keys ? '+8657188886666' : '+8657188887777';
console.log(
	`Calling ${hotline} at ${target} as ${caller}${keys ? `, pressing ${[...keys].join(' ')} in the menu` : ''}; answer on the agent desk, hang up there.`
);
const result = await runSipp(
	keys
		? callerMenuScenario({ mediaPort: null, keys: [...keys], afterMs: 2000, end: 'agent' })
		: callerEchoScenario(process.env.SIP_DOMAIN ?? 'callcenter.local'),
	target,
	{
		service: hotline,
		timeoutS: 600,
		args: ['-rtp_echo', '-mp', '6000']
	}
);
console.log(result.code === 0 ? 'The call went through and ended.' : result.output);
process.exit(result.code);
