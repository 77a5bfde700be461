/**
 * The configuration files of Kamailio (registrar, router) and Janus (WebRTC gateway with its SIP plugin),
 * written by the app from its own settings into `DATA_DIR/telephony` at every start. What Kamailio trusts:
 * - the carrier by its address (and port, when configured): calls to the hotlines, nothing else;
 * - Janus's SIP side by its own address (never a trunk's): agents, who prove who they are with the
 *   credentials the app issued for their sign-in, register there and nowhere else;
 * - desk phones by the digest credentials the administrator issued for each extension;
 * - in-dialog requests only within dialogs Kamailio set up itself (dialog module), or — so calls survive a
 *   Kamailio restart — from the trunks, Janus or the desk phones' network addressed to Kamailio's own
 *   Record-Route. Nobody else gets anything relayed: no open relay, no toll fraud.
 * Events to the app are built by jansson (every value escaped) and go only to the app's authenticated
 * evapi connection; the app's decisions are accepted only from it.
 */
import { join } from 'node:path';
import type { Settings, SipPeer } from '../settings';

export interface TelephonySettings {
	/** Where the generated files, control socket and logs go. */
	dir: string;
	sipHost: string;
	sipPort: number;
	sipDomain: string;
	/** Carrier addresses allowed to send calls in (with their port when the carrier's is fixed). */
	trunks: SipPeer[];
	/** The address Janus's SIP plugin binds to and sends from. */
	janusIp: string;
	hotlines: string[];
	/** #18 the hotlines whose calls enter the voice menu first, and where the menu's user agent listens. */
	ivrHotlines: string[];
	ivrPort: number;
	/** The carrier's address for agents' outbound calls (host[:port]); '' = agents call agents only. */
	outbound: string;
	/** Where desk phones may register from ([] = anywhere); they always authenticate. */
	deskPhones: string[];
	janusHttpPort: number;
	janusWsPort: number;
	janusAdminPort: number;
	/** The address browsers reach Janus's media at (nat_1_1_mapping); '' = Janus's own. */
	janusPublicIp: string;
	/**
	 * Where Kamailio asks the app for credentials: the app's own port on loopback, or (#16, several app
	 * servers) the address that reaches them, e.g. the reverse proxy's.
	 */
	appUrl: string;
	/** Shared with Kamailio only, for its requests to `/internal` and the app's evapi connection. */
	internalKey: string;
	/**
	 * Marks the calls Kamailio hands to Janus (`X-CC-Gate`): the `/janus` proxy rings a softphone only for
	 * those, never for an INVITE sent straight to Janus's SIP port from the network. Random at each start.
	 */
	gateToken: string;
	/** Kamailio's nonce secret and Janus's admin secret. */
	secret: string;
	/** Kamailio's evapi port: where it tells the app about calls and takes its decisions. */
	evapiPort: number;
	/**
	 * Where Kamailio's evapi and Janus's WebSocket listen for the app: loopback, or (#16) an address the
	 * app servers sharing them reach.
	 */
	serviceHost: string;
	/** How long an agent's phone rings before the call goes to the next agent. */
	offerSeconds: number;
	/** How long a call may wait for an agent; the app gives the fallback answer then. */
	maxWaitSeconds: number;
}

/**
 * What Kamailio and Janus are configured with, from the app's settings and what differs between a server
 * running them as its own children and `npm run telephony` (#16): where Kamailio asks the app, where the app
 * reaches them, and the secrets.
 */
export function telephonySettings(
	settings: Settings,
	own: Pick<TelephonySettings, 'appUrl' | 'serviceHost' | 'internalKey' | 'gateToken' | 'secret'>
): TelephonySettings {
	return {
		dir: join(settings.dataDir, 'telephony'),
		sipHost: settings.sip.host,
		sipPort: settings.sip.port,
		sipDomain: settings.sip.domain,
		trunks: settings.sip.trunks,
		janusIp: settings.sip.janusIp,
		hotlines: settings.sip.hotlines,
		ivrHotlines: settings.ivr.hotlines,
		ivrPort: settings.ivr.sipPort,
		outbound: settings.sip.outbound,
		deskPhones: settings.sip.deskPhones,
		janusHttpPort: settings.sip.janusHttpPort,
		janusWsPort: settings.sip.janusWsPort,
		janusAdminPort: settings.sip.janusAdminPort,
		janusPublicIp: settings.sip.janusPublicIp,
		evapiPort: settings.sip.evapiPort,
		offerSeconds: settings.acd.offerSeconds,
		maxWaitSeconds: settings.acd.maxWaitSeconds,
		...own
	};
}

/** A Kamailio condition matching any of the peers by source address (and port when given). */
const fromAny = (peers: SipPeer[]) =>
	peers.length
		? peers
				.map((p) => (p.port ? `($si == "${p.ip}" && $sp == ${p.port})` : `$si == "${p.ip}"`))
				.join(' || ')
		: '0';

/**
 * One Contact in name-addr form: a display name (quoted, or plain words as Janus sends it) and parameters
 * allowed, a second contact not.
 */
const SINGLE_CONTACT = `^("[^"]*"|[^<>",]*)<sips?:[^<>",]+>([^<>",]|"[^"]*")*$`;

export function renderKamailio(s: TelephonySettings): string {
	const fromTrunk = fromAny(s.trunks);
	const fromJanus = `$si == "${s.janusIp}"`;
	const fromDeskNet = s.deskPhones.length
		? fromAny(s.deskPhones.map((ip) => ({ ip, port: null })))
		: '1';
	// #18 the voice menu's user agent (the app, on Kamailio's host): the menu's hand-off to the agents.
	const fromIvr = s.ivrHotlines.length ? `($si == "${s.sipHost}" && $sp == ${s.ivrPort})` : '0';
	const isIvrHotline = s.ivrHotlines.length
		? s.ivrHotlines.map((n) => `$rU == "${n}"`).join(' || ')
		: '0';
	// After a restart Kamailio knows no dialogs: these sources may still reach it with in-dialog requests.
	const inDialogPeers = fromAny([
		...(s.ivrHotlines.length ? [{ ip: s.sipHost, port: s.ivrPort }] : []),
		...s.trunks,
		{ ip: s.janusIp, port: null },
		...s.deskPhones.map((ip) => ({ ip, port: null }))
	]);
	const isHotline = s.hotlines.length ? s.hotlines.map((n) => `$rU == "${n}"`).join(' || ') : '0';
	// The menu's hand-off: a hotline call like the carrier's, naming the menu call; the carrier's call to a
	// hotline with a menu: to the menu first. Nothing of it without IVR_HOTLINES.
	const ivrRoutes = s.ivrHotlines.length
		? `if (${fromIvr}) {
		# #18 the voice menu hands a caller to the agents.
		if (${isHotline}) {
			$avp(cc_ivr) = $hdr(X-IVR-Call-ID);
			record_route();
			dlg_manage();
			route(ACD);
			exit;
		}
		sl_send_reply("403", "Forbidden");
		exit;
	}
	`
		: '';
	const ivrTrunk = s.ivrHotlines.length
		? `if (${isIvrHotline}) {
			# #18 the carrier calling a hotline with a voice menu: to the menu first.
			record_route();
			dlg_manage();
			$du = "sip:${s.sipHost}:${s.ivrPort}";
			t_relay();
			exit;
		}
		`
		: '';
	const internal = `${s.appUrl.replace(/\/$/, '')}/internal/sip`;
	const agentUri = `^sip:[0-9]{2,20}@${s.sipDomain.replaceAll('.', '[.]')}$`;
	// A suspended call is kept by a blind branch whose timer must outlast the app's maximum wait.
	const waitMs = (s.maxWaitSeconds + s.offerSeconds + 10) * 1000;
	return `#!KAMAILIO
# Generated by the call-center app at every start; edit the app's settings, not this file.
debug=2
log_stderror=yes
fork=yes
children=4
auto_aliases=no
listen=udp:${s.sipHost}:${s.sipPort}
alias="${s.sipDomain}"
alias="${s.sipHost}:${s.sipPort}"

mpath="/usr/lib/x86_64-linux-gnu/kamailio/modules/"
loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "tm.so"
loadmodule "tmx.so"
loadmodule "sl.so"
loadmodule "rr.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "xlog.so"
loadmodule "sanity.so"
loadmodule "usrloc.so"
loadmodule "registrar.so"
loadmodule "http_client.so"
loadmodule "auth.so"
loadmodule "ctl.so"
loadmodule "htable.so"
loadmodule "dialog.so"
loadmodule "jansson.so"
loadmodule "evapi.so"

modparam("ctl", "binrpc", "unix:${s.dir}/kamailio_ctl")
modparam("usrloc", "db_mode", 0)
modparam("registrar", "max_expires", 3600)
modparam("registrar", "min_expires", 10)
modparam("rr", "enable_full_lr", 1)
modparam("http_client", "connection_timeout", 2)
modparam("http_client", "keep_connections", 1)
modparam("auth", "secret", "${s.secret}")
modparam("tm", "fr_inv_timer", 30000)
modparam("htable", "htable", "acd=>size=10;autoexpire=600;")
# #16 the calls waiting for the app's decision (by Call-ID), told again to an app server that links anew,
# and which link is the app's now (the newest: the app server holding call routing).
modparam("htable", "htable", "wait=>size=10;autoexpire=${Math.ceil(waitMs / 1000) + 30};")
modparam("htable", "htable", "link=>size=2;")
# Events of calls in progress (answered, ended …) that found no app linked: told, in order, to the next.
modparam("htable", "htable", "missed=>size=10;autoexpire=600;")
# In-dialog requests are matched by the dialog's id in Kamailio's Record-Route, then by Call-ID and tags.
modparam("dialog", "dlg_match_mode", 1)
modparam("evapi", "bind_addr", "${s.serviceHost}:${s.evapiPort}")

#!define FLT_ACD 1

request_route {
	if (!mf_process_maxfwd_header("10")) { sl_send_reply("483", "Too Many Hops"); exit; }
	if (!sanity_check("17895", "7")) { exit; }

	if (has_totag()) { route(WITHINDLG); exit; }
	# Only Kamailio itself marks the calls it hands to Janus.
	remove_hf("X-CC-Gate");
	if (is_method("CANCEL")) {
		# Only a CANCEL that matches the INVITE's transaction ends anything.
		if (t_check_trans()) {
			route(CANCELLED);
			t_relay();
			exit;
		}
		sl_send_reply("481", "Call/Transaction Does Not Exist");
		exit;
	}
	t_check_trans();

	if (is_method("OPTIONS") && $rU == $null) { sl_send_reply("200", "OK"); exit; }
	if (is_method("REGISTER")) { route(REGISTER); exit; }
	if (!is_method("INVITE")) { sl_send_reply("405", "Method Not Allowed"); exit; }

	${ivrRoutes}if (${fromTrunk}) {
		${ivrTrunk}if (${isHotline}) {
			# The carrier calling a hotline: automatic distribution.
			record_route();
			dlg_manage();
			route(ACD);
			exit;
		}
		# The carrier following a transfer (REFER) to an agent; nothing else goes out through the trunk.
		$var(callee) = $rU;
		if (lookup("location")) {
			record_route();
			dlg_manage();
			route(TO_GATEWAY);
			$var(kind) = "transfer";
			route(AGENT_CALLED);
			t_relay();
			exit;
		}
		xlog("L_NOTICE", "INVITE from the trunk $si:$sp to $rU refused\n");
		sl_send_reply("404", "Not Found");
		exit;
	}
	if (!(${fromJanus})) {
		if (${fromDeskNet}) { route(DESK_PHONE_CALL); exit; }
		xlog("L_NOTICE", "INVITE from $si:$sp refused: neither a trunk nor the gateway\n");
		sl_send_reply("403", "Forbidden");
		exit;
	}
	# From the gateway: a signed-in agent (proxy authentication with the app's credentials), as itself.
	route(SECRET);
	if ($var(kind) != "agent" || !pv_proxy_authenticate("${s.sipDomain}", "$var(ha1)", "1")) {
		if ($au != $null) { xlog("L_NOTICE", "INVITE refused for $au from $si\n"); }
		proxy_challenge("${s.sipDomain}", "0");
		exit;
	}
	if ($au != $fU) { sl_send_reply("403", "Forbidden"); exit; }
	consume_credentials();
	record_route();
	dlg_manage();
	if (${isHotline}) {
		# An agent testing the hotline, or transferring a caller back into the queue.
		route(ACD);
		exit;
	}
	$var(callee) = $rU;
	if (lookup("location")) {
		# A colleague's call (#17: a consultation): both are busy for the distribution until it ends.
		route(TO_GATEWAY);
		$var(agent) = $au;
		route(OUTBOUND_EVENT);
		$var(kind) = "internal";
		route(AGENT_CALLED);
		t_relay();
		exit;
	}
	route(OUTBOUND);
	exit;
}

# Requests within a dialog: relayed only in dialogs Kamailio knows, or — after a restart, when it knows
# none — from the call's own peers (trunks, Janus, desk phones) through Kamailio's own Record-Route.
route[WITHINDLG] {
	$var(peer) = 0;
	if ((${inDialogPeers}) && $route_uri != $null) {
		if (is_myself("$route_uri")) { $var(peer) = 1; }
	}
	if (loose_route()) {
		if (!is_known_dlg() && $var(peer) == 0) {
			xlog("L_NOTICE", "$rm from $si:$sp refused: no such dialog (Call-ID $ci)\n");
			if (!is_method("ACK")) { sl_send_reply("403", "Forbidden"); }
			exit;
		}
		if (is_method("BYE")) { route(BYE_ENDED); }
		t_relay();
		exit;
	}
	if (is_method("ACK")) { if (t_check_trans()) { t_relay(); } exit; }
	sl_send_reply("404", "Not here");
	exit;
}

# An agent's call to a number outside: to the carrier when one is configured.
route[OUTBOUND] {
${
	s.outbound
		? `	if ($rU =~ "^[+]?[0-9]{3,20}$") {
		# Only agents whose role has call.outbound: the app answers for the live sign-in.
		http_client_query("${internal}/outbound?key=${s.internalKey}&user=$(au{s.urlencode.param})", "$var(may)");
		if ($rc != 200) { sl_send_reply("403", "Outbound calls not allowed"); exit; }
		xlog("L_NOTICE", "outbound call by $au to $rU\n");
		$var(agent) = $au;
		route(OUT_CALL);
		exit;
	}
`
		: ''
}	sl_send_reply("404", "Not Found");
}

# A desk phone calling (#17): authenticated with the account the administrator issued, from the desk
# phones' network, as itself; only to a number outside, and only while a signed-in agent whose role has
# call.outbound works with this phone (the app answers with that agent's ID).
route[DESK_PHONE_CALL] {
	route(SECRET);
	if ($var(kind) != "phone" || !pv_proxy_authenticate("${s.sipDomain}", "$var(ha1)", "1")) {
		if ($au != $null) { xlog("L_NOTICE", "INVITE refused for desk phone $au from $si\n"); }
		proxy_challenge("${s.sipDomain}", "0");
		exit;
	}
	if ($au != $fU) { sl_send_reply("403", "Forbidden"); exit; }
	consume_credentials();
${
	s.outbound
		? `	if ($rU =~ "^[+]?[0-9]{3,20}$") {
		http_client_query("${internal}/outbound?key=${s.internalKey}&phone=$(au{s.urlencode.param})", "$var(agent)");
		if ($rc != 200) { sl_send_reply("403", "Outbound calls not allowed"); exit; }
		record_route();
		dlg_manage();
		xlog("L_NOTICE", "outbound call by desk phone $au (agent $var(agent)) to $rU\n");
		route(OUT_CALL);
		exit;
	}
`
		: ''
}	sl_send_reply("404", "Not Found");
}

# An agent's call to the carrier (agent ID in $var(agent)): the app hears of it first — the agent is busy
# for the distribution until it ends — and of its failure before an answer.
route[OUT_CALL] {
	$ru = "sip:" + $rU + "@${s.outbound}";
	route(OUTBOUND_EVENT);
	if (!t_relay()) {
		$var(status) = 500;
		route(OUT_FAILED_EVENT);
		sl_reply_error();
	}
}

# The app hears that agent $var(agent) placed this call; its failure before an answer is reported too.
route[OUTBOUND_EVENT] {
	$var(ev) = "{}";
	if (jansson_set("string", "event", "outbound", "$var(ev)")
			&& jansson_set("string", "callid", "$ci", "$var(ev)")
			&& jansson_set("string", "ftag", "$ft", "$var(ev)")
			&& jansson_set("string", "agent", "$var(agent)", "$var(ev)")) {
		route(TO_APP);
	}
	t_on_failure("OUT_FAILED");
}

# #17 a call outside the distribution rings agent $var(callee) ($var(kind): internal or transfer): the app
# keeps them busy until it ends; its failure before an answer is reported too.
route[AGENT_CALLED] {
	$var(ev) = "{}";
	if (jansson_set("string", "event", "agentCalled", "$var(ev)")
			&& jansson_set("string", "callid", "$ci", "$var(ev)")
			&& jansson_set("string", "ftag", "$ft", "$var(ev)")
			&& jansson_set("string", "agent", "$var(callee)", "$var(ev)")
			&& jansson_set("string", "kind", "$var(kind)", "$var(ev)")
			&& jansson_set("string", "from", "$fU", "$var(ev)")) {
		route(TO_APP);
	}
	t_on_failure("OUT_FAILED");
}

failure_route[OUT_FAILED] {
	$var(status) = $T_reply_code;
	route(OUT_FAILED_EVENT);
}

route[OUT_FAILED_EVENT] {
	$var(ev) = "{}";
	if (jansson_set("string", "event", "outboundFailed", "$var(ev)")
			&& jansson_set("string", "callid", "$ci", "$var(ev)")
			&& jansson_set("integer", "status", "$var(status)", "$var(ev)")) {
		route(TO_APP);
	}
}

# Who $au is, from the app: "agent" (a live sign-in's credentials) or "phone" (a desk phone the
# administrator issued), and the HA1 (md5 of user:realm:password) to check the digest with; "" = nobody.
route[SECRET] {
	$var(kind) = "";
	$var(ha1) = "";
	if ($au == $null) { return; }
	http_client_query("${internal}/secret?key=${s.internalKey}&user=$(au{s.urlencode.param})", "$var(answer)");
	if ($rc != 200) { return; }
	$var(kind) = $(var(answer){s.select,0,:});
	$var(ha1) = $(var(answer){s.select,1,:});
}

route[REGISTER] {
	route(SECRET);
	if ($var(kind) == "" || !pv_www_authenticate("${s.sipDomain}", "$var(ha1)", "1")) {
		if ($au != $null) { xlog("L_NOTICE", "REGISTER refused for $au from $si\n"); }
		www_challenge("${s.sipDomain}", "0");
		exit;
	}
	# Each registers only its own number ("1" = From and To user), with one Contact.
	if ($au != $tU || $au != $fU) { sl_send_reply("403", "Forbidden"); exit; }
	if ($ct != "*") {
		if ($hdrc(Contact) != 1 || !($ct =~ '${SINGLE_CONTACT}')) {
			xlog("L_NOTICE", "REGISTER of $au from $si refused: Contact $ct\n");
			sl_send_reply("403", "One Contact only");
			exit;
		}
		$var(contactHost) = $(ct{nameaddr.uri}{uri.host});
	} else {
		$var(contactHost) = $si;
	}
	if ($var(kind) == "agent") {
		# An agent's identity binds to the gateway's contact only (the browser's phone is Janus).
		if (!(${fromJanus}) || $var(contactHost) != "${s.janusIp}") {
			xlog("L_NOTICE", "REGISTER of agent $au from $si to $ct refused: not the gateway\n");
			sl_send_reply("403", "Agents register through the gateway");
			exit;
		}
	} else {
		# A desk phone: from the desk phones' network (when DESK_PHONES is set), reached where it sent from.
		if (!(${fromDeskNet}) || $var(contactHost) != $si) {
			xlog("L_NOTICE", "REGISTER of desk phone $au from $si to $ct refused\n");
			sl_send_reply("403", "Not from this phone's address");
			exit;
		}
	}
	consume_credentials();
	if (!save("location")) { sl_reply_error(); exit; }
	xlog("L_NOTICE", "registered $tU at $ct\n");
	exit;
}

# An event for the app, only to its authenticated evapi connection (the newest one that linked).
route[TO_APP] {
	if ($sht(link=>app) == $null || !evapi_unicast("$var(ev)", "$sht(link=>app)")) {
		# #16 nobody linked (an app server taking over): kept for the next link. A waiting call is told
		# anew from the wait table instead.
		jansson_get("event", "$var(ev)", "$var(evname)");
		if ($var(evname) != "offer" && $var(evname) != "retry") {
			$var(n) = $shtinc(link=>missed);
			$sht(missed=>$var(n)) = $var(ev);
		}
		xlog("L_ERR", "event not sent to the app: $var(ev)\n");
	}
}

# #16 the call waits for the app's decision: what to tell an app server that links meanwhile.
route[WAITING] {
	$var(wait) = "{}";
	if (jansson_set("string", "event", "offer", "$var(wait)")
			&& jansson_set("integer", "tindex", "$T(id_index)", "$var(wait)")
			&& jansson_set("integer", "tlabel", "$T(id_label)", "$var(wait)")
			&& jansson_set("string", "callid", "$ci", "$var(wait)")
			&& jansson_set("string", "ftag", "$ft", "$var(wait)")
			&& jansson_set("string", "from", "$avp(cc_from)", "$var(wait)")
			&& jansson_set("string", "to", "$avp(cc_to)", "$var(wait)")
			&& jansson_set("integer", "at", "$avp(cc_at)", "$var(wait)")) {
		$sht(wait=>$ci) = $var(wait);
	}
}

# A caller's CANCEL matched the INVITE's transaction: the call ends unanswered.
route[CANCELLED] {
	$sht(wait=>$ci) = $null;
	$var(ev) = "{}";
	if (jansson_set("string", "event", "ended", "$var(ev)")
			&& jansson_set("string", "callid", "$ci", "$var(ev)")
			&& jansson_set("string", "ftag", "$ft", "$var(ev)")
			&& jansson_set("true", "cancelled", "true", "$var(ev)")) {
		route(TO_APP);
	}
}

# A BYE within a call: the call is over.
route[BYE_ENDED] {
	$var(ev) = "{}";
	if (jansson_set("string", "event", "ended", "$var(ev)")
			&& jansson_set("string", "callid", "$ci", "$var(ev)")
			&& jansson_set("string", "ftag", "$ft", "$var(ev)")
			&& jansson_set("string", "ttag", "$tt", "$var(ev)")
			&& jansson_set("false", "cancelled", "false", "$var(ev)")) {
		route(TO_APP);
	}
}

# The call waits, suspended, while the app chooses an agent (or queues it): no worker is held meanwhile.
route[ACD] {
	if ($ft == $null || $ft == "") { sl_send_reply("400", "From tag missing"); exit; }
	setflag(FLT_ACD);
	t_newtran();
	$var(caller) = $fU;
	if (is_present_hf("P-Asserted-Identity")) { $var(caller) = $(ai{uri.user}); }
	if ($var(caller) == $null) { $var(caller) = ""; }
	$avp(cc_from) = $var(caller);
	$avp(cc_to) = $rU;
	$avp(cc_at) = $TS;
	$var(ev) = "{}";
	if (!(jansson_set("string", "event", "offer", "$var(ev)")
			&& jansson_set("integer", "tindex", "$T(id_index)", "$var(ev)")
			&& jansson_set("integer", "tlabel", "$T(id_label)", "$var(ev)")
			&& jansson_set("string", "callid", "$ci", "$var(ev)")
			&& jansson_set("string", "ftag", "$ft", "$var(ev)")
			&& jansson_set("string", "from", "$var(caller)", "$var(ev)")
			&& jansson_set("string", "to", "$rU", "$var(ev)")
			&& ($avp(cc_ivr) == $null || jansson_set("string", "ivr", "$avp(cc_ivr)", "$var(ev)")))) {
		# Not representable as JSON text (e.g. not UTF-8): no such call.
		t_reply("400", "Bad Request");
		exit;
	}
	send_reply("180", "Ringing");
	t_set_fr(${waitMs}, ${waitMs});
	if (!t_suspend()) { t_reply("500", "Server Error"); exit; }
	route(WAITING);
	route(TO_APP);
	exit;
}

# A call going to an agent's softphone (a contact at Janus's address) carries Kamailio's mark.
route[TO_GATEWAY] {
	if ($(ru{uri.host}) == "${s.janusIp}") {
		append_hf("X-CC-Gate: ${s.gateToken}\r\n");
	}
}

# Resumed by the app's decision: ring that agent, or give the caller the final answer.
route[DELIVER] {
	$sht(wait=>$ci) = $null;
	$var(agent) = $sht(acd=>$T(id_index):$T(id_label));
	$sht(acd=>$T(id_index):$T(id_label)) = $null;
	if ($var(agent) == $null || !($var(agent) =~ "${agentUri}")) {
		xlog("L_NOTICE", "ACD $ci: no agent\n");
		t_reply("480", "No agent available");
		exit;
	}
	$ru = $var(agent);
	xlog("L_NOTICE", "ACD $ci to $var(agent)\n");
	if (!lookup("location")) {
		xlog("L_NOTICE", "ACD $ci: $var(agent) is not registered\n");
		route(ASK_AGAIN_404);
		exit;
	}
	route(TO_GATEWAY);
	t_set_fr(${s.offerSeconds * 1000}, ${s.offerSeconds * 1000});
	t_on_failure("UNANSWERED");
	t_on_reply("ACD_REPLY");
	if (!t_relay()) { t_reply("500", "Server Error"); }
	exit;
}

route[RETRY] {
	route(WAITING);
	$var(ev) = "{}";
	if (jansson_set("string", "event", "retry", "$var(ev)")
			&& jansson_set("integer", "tindex", "$T(id_index)", "$var(ev)")
			&& jansson_set("integer", "tlabel", "$T(id_label)", "$var(ev)")
			&& jansson_set("string", "callid", "$ci", "$var(ev)")
			&& jansson_set("integer", "status", "$var(status)", "$var(ev)")
			&& jansson_set("string", "ftag", "$ft", "$var(ev)")
			&& jansson_set("string", "from", "$avp(cc_from)", "$var(ev)")
			&& jansson_set("string", "to", "$avp(cc_to)", "$var(ev)")) {
		route(TO_APP);
	}
}

route[ASK_AGAIN_404] {
	t_set_fr(${waitMs}, ${waitMs});
	if (!t_suspend()) { t_reply("480", "No agent available"); exit; }
	$var(status) = 404;
	route(RETRY);
}

onreply_route[ACD_REPLY] {
	if (isflagset(FLT_ACD) && $rs == 200) {
		$var(ev) = "{}";
		if (jansson_set("string", "event", "answered", "$var(ev)")
				&& jansson_set("string", "callid", "$ci", "$var(ev)")
				&& jansson_set("string", "ftag", "$ft", "$var(ev)")
				&& jansson_set("string", "ttag", "$tt", "$var(ev)")) {
			route(TO_APP);
		}
	}
}

# The agent did not answer (ring timeout, busy, rejected): ask the app again.
failure_route[UNANSWERED] {
	if (t_is_canceled()) { exit; }
	t_set_fr(${waitMs}, ${waitMs});
	if (!t_suspend()) { exit; }
	$var(status) = $T_reply_code;
	route(RETRY);
}

event_route[htable:mod-init] {
	$sht(link=>missed) = 0;
	$sht(link=>told) = 0;
}

# The app's connection: a new one hears nothing until it proves to be the app (the key of this start).
event_route[evapi:connection-new] {
	evapi_set_tag("new");
}

# #16 the app's link went away (its server died): events are kept for the next one from now on (evapi_unicast
# only queues an event to evapi's own process, so a send cannot tell).
event_route[evapi:connection-closed] {
	if ($sht(link=>app) == $_s(app$evapi(conidx))) {
		$sht(link=>app) = $null;
	}
}

event_route[evapi:message-received] {
	if (!jansson_get("key", "$evapi(msg)", "$var(key)") || $var(key) != "${s.internalKey}") {
		xlog("L_WARN", "evapi: message without the app's key from $evapi(srcaddr):$evapi(srcport)\n");
		evapi_close();
		exit;
	}
	$var(tag) = $_s(app$evapi(conidx));
	if (!jansson_get("tindex", "$evapi(msg)", "$var(tindex)")) {
		# The app's first message: this link is the app's from now on (#16: an app server taking over call
		# routing links anew; the one before hears nothing more and is refused). Tell it the link is up, and
		# every call still waiting for a decision.
		evapi_set_tag("$var(tag)");
		$sht(link=>app) = $var(tag);
		evapi_unicast('{"event":"linked"}', "$var(tag)");
		# What happened to calls in progress while nobody was linked, in order.
		$var(i) = $sht(link=>told);
		$var(last) = $sht(link=>missed);
		if ($var(i) == $null) { $var(i) = 0; }
		if ($var(last) == $null) { $var(last) = 0; }
		while ($var(i) < $var(last)) {
			$var(i) = $var(i) + 1;
			if ($sht(missed=>$var(i)) != $null) {
				evapi_unicast("$sht(missed=>$var(i))", "$var(tag)");
				$sht(missed=>$var(i)) = $null;
			}
		}
		$sht(link=>told) = $var(last);
		if (sht_iterator_start("w", "wait")) {
			while (sht_iterator_next("w")) {
				evapi_unicast("$shtitval(w)", "$var(tag)");
			}
		}
		sht_iterator_end("w");
		exit;
	}
	if ($var(tag) != $sht(link=>app)) {
		xlog("L_WARN", "evapi: decision from a link that is no longer the app's ($evapi(srcaddr):$evapi(srcport))\n");
		evapi_close();
		exit;
	}
	jansson_get("tlabel", "$evapi(msg)", "$var(tlabel)");
	jansson_get("agent", "$evapi(msg)", "$var(agent)");
	$sht(acd=>$var(tindex):$var(tlabel)) = $var(agent);
	t_continue("$var(tindex)", "$var(tlabel)", "DELIVER");
}
`;
}

/** Janus's folder of .jcfg files: core, SIP plugin, HTTP and WebSocket transports. */
export function renderJanus(s: TelephonySettings): Record<string, string> {
	const nat = s.janusPublicIp
		? `\tnat_1_1_mapping = "${s.janusPublicIp}"\n\tkeep_private_host = false\n`
		: '';
	return {
		'janus.jcfg': `general: {
	configs_folder = "${s.dir}/janus"
	plugins_folder = "/usr/lib/x86_64-linux-gnu/janus/plugins"
	transports_folder = "/usr/lib/x86_64-linux-gnu/janus/transports"
	events_folder = "/usr/lib/x86_64-linux-gnu/janus/events"
	loggers_folder = "/usr/lib/x86_64-linux-gnu/janus/loggers"
	debug_level = 4
	admin_secret = "${s.secret}"
	session_timeout = 60
	recordings_tmp_ext = "tmp"
}
media: {
	rtp_port_range = "40000-40999"
}
nat: {
	nice_debug = false
	full_trickle = false
	ice_lite = false
	ice_ignore_list = "vmnet,ifb"
${nat}}
plugins: {
	disable = "libjanus_audiobridge.so,libjanus_duktape.so,libjanus_echotest.so,libjanus_lua.so,libjanus_nosip.so,libjanus_recordplay.so,libjanus_streaming.so,libjanus_textroom.so,libjanus_videocall.so,libjanus_videoroom.so,libjanus_voicemail.so"
}
transports: {
	disable = "libjanus_mqtt.so,libjanus_nanomsg.so,libjanus_pfunix.so,libjanus_rabbitmq.so"
}
events: {
	broadcast = false
}
loggers: {
	disable = "libjanus_jsonlog.so"
}
`,
		'janus.plugin.sip.jcfg': `general: {
	local_ip = "${s.janusIp}"
	local_media_ip = "${s.janusIp}"
	sdp_ip = "${s.janusIp}"
	keepalive_interval = 0
	behind_nat = false
	user_agent = "GuangdianCallCenter"
	register_ttl = 300
	rtp_port_range = "20000-20999"
	sip_timer_t1x64 = 32000
}
`,
		'janus.transport.http.jcfg': `general: {
	json = "plain"
	base_path = "/janus"
	http = true
	port = ${s.janusHttpPort}
	ip = "127.0.0.1"
	https = false
}
admin: {
	admin_base_path = "/admin"
	admin_http = true
	admin_port = ${s.janusAdminPort}
	admin_ip = "127.0.0.1"
	admin_https = false
}
cors: {
}
`,
		'janus.transport.websockets.jcfg': `general: {
	json = "plain"
	ws = true
	ws_port = ${s.janusWsPort}
	ws_ip = "${s.serviceHost}"
	wss = false
}
admin: {
	admin_ws = false
	admin_wss = false
}
cors: {
}
`
	};
}
