/**
 * Plays the carrier calling a hotline, for trying the product by hand (README): sipp sends the call from
 * 127.0.0.1 (a trunk by default), echoes the agent's audio back, and ends when the agent hangs up.
 *   npm run call:hotline -- [hotline=96000] [kamailio=127.0.0.1:5060]
 */
import { callerEchoScenario, runSipp } from '../helpers/sipp';

const [hotline = '96000', target = `127.0.0.1:${process.env.SIP_PORT ?? 5060}`] =
	process.argv.slice(2);
console.log(
	`Calling ${hotline} at ${target} as +8657188887777; answer on the agent desk, hang up there.`
);
const result = await runSipp(
	callerEchoScenario(process.env.SIP_DOMAIN ?? 'callcenter.local'),
	target,
	{
		service: hotline,
		timeoutS: 600,
		args: ['-rtp_echo', '-mp', '6000']
	}
);
console.log(result.code === 0 ? 'The call went through and ended.' : result.output);
process.exit(result.code);
