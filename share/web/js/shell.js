/*
 * shell.js - the Horcrux dashboard's frame: sign-in, one WebSocket to
 * /api/ws, the topics of the events the pages render (NodeMetrics,
 * Notification, AlertTriggered, AlertResolved, and whatever a page asks
 * for with on()), the monitoring view of the newest NodeMetrics sample,
 * and the banner of firing alerts (DESIGN.md sections 3 to 5, 9):
 * those of GET /api/alerts?state=firing once subscribed, then kept live.
 * The topic names come from the daemon (GET /api/protocol, read once):
 * the page names the event types it wants, never a copy of the topics.
 * Only the pages on screen are fed: a route names the event types it
 * renders (route(..., {events: [...]})), and on every route change the
 * shell sends the new set ({"topics": [...]} replaces it; the daemon
 * answers with the snapshot of the metric topics added). The frame's
 * own events (NodeMetrics for the monitoring view and the header,
 * Notification, the alerts of the banner) are always in it.
 *
 * With a daemon whose welcome carries a boot_id (DESIGN.md section 3,
 * "Batching and resume") the page asks for batches: one VmMetricsBatch
 * per VM tick, handed to the pages at once (onVmTick), so a page with a
 * hundred VMs draws once per tick, not once per VM. It keeps the
 * boot_id and the highest seq seen; a reconnection to the same boot
 * sends resume {boot_id, after}, so the events sent while it was away
 * are replayed, and an event whose seq it has seen is dropped (shown
 * once). When the daemon cannot replay (RESUME_GAP), or the page did
 * not resume, what the pages show is read again from REST (onResync).
 * An older daemon (no boot_id) gets the plain subscription: it answers
 * BAD_MESSAGE to keys it does not know.
 *
 * The connection badge says which of these holds, in a word and a glyph:
 * connected (live), connecting, reconnecting (with the backoff's
 * countdown), offline (the browser says so, or the server cannot be
 * reached), sign-in required, forbidden. While the browser is offline
 * the page does not retry; its 'online' event reconnects at once.
 *
 * The WebSocket reconnects with a capped, jittered exponential backoff. A
 * refused upgrade is told apart from an unreachable server by asking a
 * REST route behind the same authentication; when that says 401 the page
 * stops retrying and shows a sign-in form. Signing in (POST
 * /api/auth/login) makes the server set an HttpOnly session cookie that
 * the browser sends with the upgrade and every request; the page keeps
 * only the session's CSRF token (in sessionStorage, so per tab), sends it
 * on every state-changing request, renews the session ten minutes before
 * it expires and signs out with POST /api/auth/logout. The token in the
 * login answer is never kept: script-readable storage is exactly what
 * the HttpOnly cookie keeps it out of.
 *
 * Everything that comes from the network reaches the DOM through
 * textContent only; the page builds its few repeated elements with
 * createElement.
 *
 * The other pages are modules of their own (main.js loads them): they
 * name the events their route renders, call on() (or onVmTick()) for
 * them, onResync() to read their state again when the stream missed
 * something, onAccount() to learn who the page runs as, can() to decide
 * which controls to show, and api() for REST.
 */

import {
	$, Bar, DASH, el, fixed, fmtAge, fmtBytes, fmtClock, fmtDuration,
	fmtExactBytes, fmtPct, fmtRate, isNum, level, setText, syncBars, text
} from './ui.js';
import { onRoute, routeEvents } from './router.js';

var BACKOFF_MIN_MS = 500;
var BACKOFF_MAX_MS = 5000;
var SILENCE_MS = 75000;		/* server Pings every 30 s */
var STALE_MS = 5000;		/* a sample older than this is stale */
var SESSION_MS = 2 * 3600 * 1000;	/* what a login grants */
var RENEW_BEFORE_MS = 10 * 60 * 1000;
var RENEW_GAP_MS = 30 * 1000;	/* at most one renewal per 30 s */
var STORE_KEY = 'horcrux.session';
/* The events the frame renders on every page: always subscribed. */
var ALWAYS = ['NodeMetrics', 'Notification', 'AlertTriggered',
    'AlertResolved'];
export var SEVERITIES = {	/* a word and a glyph beside the colour */
	critical: { word: 'CRITICAL', glyph: '\u25b2' },
	warning: { word: 'WARNING', glyph: '\u25c6' },
	info: { word: 'INFO', glyph: '\u25cf' }
};
var BRIEF_MS = 5000;		/* an info notification's time on screen */
var statusUntil = 0;

var ws = null;			/* the live socket, or null */
var generation = 0;		/* bumps on every connect attempt */
var attempt = 0;		/* failures since the last good session */
var retryTimer = null;
var retryAt = 0;		/* mono() time of the next attempt */
var lastMessageAt = 0;		/* mono() time of the last frame */
var sampleAt = NaN;		/* ms since epoch of the newest sample */
var connState = 'connecting';
var noAccess = false;		/* NodeMetrics' topic refused to us */
var protocol = null;		/* promise of {event type: topic} */
var nodeTopic = null;		/* the topic NodeMetrics comes on */
var alertTopic = null;		/* the topic AlertTriggered comes on */
var alerts = {};		/* firing, by alert_id */
var resolved = {};		/* alert_ids resolved this connection */
var bootId = null;		/* the daemon's boot_id, once welcomed */
var lastSeq = null;		/* highest seq seen of that boot */
var serverSkew = 0;		/* server clock minus ours, in ms */
var skewKnown = false;		/* serverSkew measured yet? */

/*
 * This tab's login session: { csrf_token, username, expires_at (the
 * server's RFC 3339 string), final (a renewal did not move
 * expires_at: the 12 h cap is reached) }, or null. Mirrored in
 * sessionStorage so a reload keeps it; it never holds the token.
 */
var session = null;
var renewing = false;
var renewedAt = -Infinity;	/* mono() time of the last attempt */
var signingIn = false;
var signingOut = false;
var justSignedIn = false;	/* no upgrade tried since the login */
var loginBlockedUntil = 0;	/* Date.now() time, after a 429 */

/* What the pages asked for: event listeners and account watchers. */
var listeners = {};		/* event type -> [fn(data, msg)] */
var vmTicks = [];		/* fn([VmMetrics data...]) */
var resyncs = [];		/* fn(): the stream missed something */
var wants = {};			/* event type -> holders (want()) */
var watchers = [];		/* fn(me or null) */
var me = null;			/* GET /api/auth/me of the live connection */

var cpuBar = new Bar('Total', false);
var fullestBar = new Bar('Fullest', false);
var loadBars = [new Bar('1 min', true), new Bar('5 min', true),
    new Bar('15 min', true)];
var memBar = new Bar('RAM', false);
var swapBar = new Bar('Swap', false);
var coreBars = [];
var diskBars = [];

/* ---- rendering a NodeMetrics event ---- */

function usedOf(used, total) {
	if (!isNum(used) && !isNum(total))
		return DASH;
	return fmtBytes(used) + ' used of ' + fmtBytes(total);
}

function renderNode(d) {
	var load = Array.isArray(d.load_average) ? d.load_average : [];
	var cores = Array.isArray(d.cpu_per_core) ? d.cpu_per_core : [];
	var disks = Array.isArray(d.disks) ? d.disks : [];
	var ts = typeof d.timestamp === 'string' ?
	    Date.parse(d.timestamp) : NaN;
	var i, k, swapDetail;

	setText('hostname', text(d.hostname));
	document.title = (typeof d.hostname === 'string' ?
	    d.hostname + ' \u2014 ' : '') + 'Horcrux';
	setText('uptime', fmtDuration(d.uptime_seconds));
	setText('load-1', fixed(load[0], 2));
	setText('load-5', fixed(load[1], 2));
	setText('load-15', fixed(load[2], 2));
	setText('cpu-cores', isNum(d.cpu_cores) ? String(d.cpu_cores) :
	    DASH);

	cpuBar.update(d.cpu_usage, isNum(d.cpu_cores) ?
	    'across ' + d.cpu_cores + ' cores' : '');
	syncBars(coreBars, $('cpu-cores-list'), cores.length, true);
	for (i = 0; i < cores.length; i++) {
		coreBars[i].setLabel('cpu' + i);
		coreBars[i].update(cores[i]);
	}

	memBar.update(d.memory_usage, usedOf(d.memory_used_bytes,
	    d.memory_total_bytes));
	setText('mem-total', isNum(d.memory_total_bytes) ?
	    fmtBytes(d.memory_total_bytes) + ' (' +
	    fmtExactBytes(d.memory_total_bytes) + ')' : DASH);
	setText('mem-available', fmtBytes(d.memory_available_bytes));
	swapDetail = d.swap_total_bytes === 0 ? 'no swap configured' :
	    usedOf(d.swap_used_bytes, d.swap_total_bytes);
	swapBar.update(d.swap_usage, swapDetail);

	syncBars(diskBars, $('disk-list'), disks.length, false);
	for (i = 0; i < disks.length; i++) {
		k = disks[i] && typeof disks[i] === 'object' ?
		    disks[i] : {};
		diskBars[i].setLabel(text(k.mount));
		diskBars[i].update(k.usage, usedOf(k.used_bytes,
		    k.total_bytes));
	}
	$('disk-list').setAttribute('data-empty',
	    disks.length === 0 ? 'true' : 'false');

	setText('disk-read', fmtRate(d.disk_read_bps));
	setText('disk-write', fmtRate(d.disk_write_bps));
	setText('net-rx', fmtRate(d.network_rx_bps));
	setText('net-tx', fmtRate(d.network_tx_bps));

	renderLoad(load, d.cpu_cores);
	renderFullest(disks, d.disk_usage);

	sampleAt = ts;
	setText('sample-time', isNum(ts) ? fmtClock(ts) : DASH);
	$('sample-time').dateTime = isNum(ts) ? d.timestamp : '';
	tick();
}


/*
 * Load per core, as a percentage: 100 % is a full queue on every core,
 * so the same bands as the other bars read right. The bar's meter may
 * go past 100 (an overloaded host), so its maximum follows the value.
 */
function renderLoad(load, cores) {
	var n = isNum(cores) && cores > 0 ? cores : NaN;
	var i, pct;

	for (i = 0; i < loadBars.length; i++) {
		pct = isNum(load[i]) && isNum(n) ? load[i] / n * 100 : NaN;
		loadBars[i].update(pct, '');
		loadBars[i].track.setAttribute('aria-valuemax',
		    String(isNum(pct) && pct > 100 ? Math.ceil(pct) : 100));
		loadBars[i].value.textContent = isNum(load[i]) ?
		    fixed(load[i], 2) + ' (' + fmtPct(pct) + ')' : DASH;
	}
	setText('load-scale', isNum(n) ? fixed(n, 2) + ' on ' + n +
	    (n === 1 ? ' core' : ' cores') : DASH);
}

/*
 * The fullest mount called out: the one with the highest usage (the
 * daemon's disk_usage is that figure, DESIGN.md section 3).
 */
function renderFullest(disks, usage) {
	var best = null, i, k;

	for (i = 0; i < disks.length; i++) {
		k = disks[i];
		if (k && typeof k === 'object' && isNum(k.usage) &&
		    (best === null || k.usage > best.usage))
			best = k;
	}
	if (best === null) {
		fullestBar.setLabel('Fullest mount');
		fullestBar.update(isNum(usage) ? usage : NaN, disks.length ?
		    '' : 'no mounts reported');
		return;
	}
	fullestBar.setLabel('Fullest: ' + text(best.mount));
	fullestBar.update(best.usage, usedOf(best.used_bytes,
	    best.total_bytes));
}

/* ---- status line, connection indicator, layout ---- */

/*
 * The status line. brief: an info message that leaves after
 * BRIEF_MS (tick() clears it), so the welcome does not hold the
 * line for good; warnings and errors stay until replaced.
 */
function status(lv, msg, brief) {
	var s = $('status');

	s.setAttribute('data-level', lv);
	s.textContent = msg;
	statusUntil = brief ? Date.now() + BRIEF_MS : 0;
}

/* Which big blocks show: the form, the no-access notice, the panels. */
function layout() {
	var signin = connState === 'signin';

	$('signin').hidden = !signin;
	$('noaccess').hidden = signin || !noAccess;
	$('nav').hidden = signin;
	$('views').hidden = signin;
	$('panels').hidden = signin || noAccess;
	$('legend').hidden = signin || noAccess;
	$('alerts').hidden = signin || Object.keys(alerts).length === 0;
}

/* Each state's word and glyph: the colour only adds to them. */
var CONN = {
	connecting: { word: 'connecting', glyph: '\u25cc' },	/* ◌ */
	connected: { word: 'connected', glyph: '\u25cf' },	/* ● */
	reconnecting: { word: 'reconnecting', glyph: '\u21bb' }, /* ↻ */
	offline: { word: 'offline', glyph: '\u2715' },		/* ✕ */
	signin: { word: 'sign-in required', glyph: '\u25cb' },	/* ○ */
	forbidden: { word: 'forbidden', glyph: '\u2298' }	/* ⊘ */
};

function setConn(state, detail) {
	var c = CONN[state] || { word: state, glyph: '\u25cb' };

	connState = state;
	$('conn').setAttribute('data-state', state);
	document.body.setAttribute('data-conn', state);
	setText('conn-dot', c.glyph);
	setText('conn-state', c.word);
	setText('conn-detail', detail || '');
	layout();
}

/* Forget every number on screen: they belong to whoever saw them. */
function resetView() {
	renderNode({});
}

function setNoAccess(on) {
	if (on === noAccess)
		return;
	noAccess = on;
	if (on)
		resetView();
	layout();
}

function describeClose(ev) {
	var names = {
		1000: 'normal', 1001: 'going away', 1006: 'abnormal',
		1008: 'policy violation', 1009: 'message too big',
		1011: 'server error', 1013: 'try again later'
	};
	var s = 'code ' + ev.code;

	if (names[ev.code])
		s += ' ' + names[ev.code];
	if (ev.reason)
		s += ': ' + ev.reason;
	return s;
}

/* A clock for intervals: wall-clock jumps do not move it. */
function mono() {
	return typeof performance === 'object' &&
	    typeof performance.now === 'function' ?
	    performance.now() : Date.now();
}

/* ---- the session: storage, REST calls, renewal ---- */

function saveSession() {
	try {
		if (session)
			sessionStorage.setItem(STORE_KEY, JSON.stringify({
			    csrf_token: session.csrf_token,
			    username: session.username,
			    expires_at: session.expires_at,
			    final: session.final }));
		else
			sessionStorage.removeItem(STORE_KEY);
	} catch (e) {
		/* Storage off: the session lasts as long as the page. */
	}
}

function loadSession() {
	var s;

	try {
		s = JSON.parse(sessionStorage.getItem(STORE_KEY));
	} catch (e) {
		s = null;
	}
	if (!s || typeof s !== 'object' ||
	    typeof s.csrf_token !== 'string' ||
	    typeof s.username !== 'string' ||
	    typeof s.expires_at !== 'string' ||
	    !isNum(Date.parse(s.expires_at)))
		return null;
	s.final = s.final === true;
	return s;
}

function clearSession() {
	session = null;
	renewing = false;
	saveSession();
}

/*
 * When the session ends, on this browser's clock. expires_at is the
 * server's time; serverSkew carries it over, so a browser whose clock
 * is minutes or hours off still renews on time. A login answer gives
 * a first estimate (a login grants 2 h from the server's now); the
 * timestamps of WebSocket frames refine it.
 */
function sessionEnd() {
	return Date.parse(session.expires_at) - serverSkew;
}

/* A login or renew answer this page can keep time by. */
function sessionReply(res) {
	var d = res.data;

	return res.status === 200 && d !== null && typeof d === 'object' &&
	    typeof d.expires_at === 'string' &&
	    isNum(Date.parse(d.expires_at)) &&
	    typeof d.csrf_token === 'string' && d.csrf_token !== '';
}

/*
 * Adopt a login (prev null) or renew answer (sessionReply true). A renewal that did not
 * move expires_at forward means the absolute cap is reached: no more
 * renewals, the session just ends then.
 */
function adoptSession(d, prev) {
	session = {
		csrf_token: d.csrf_token,
		username: typeof d.username === 'string' ? d.username :
		    prev.username,
		expires_at: d.expires_at,
		final: prev !== null && Date.parse(d.expires_at) <=
		    Date.parse(prev.expires_at)
	};
	saveSession();
	showAccount(session.username, true);
}

/*
 * One REST call with the session cookie; JSON in and out. Resolves
 * with { status, data (parsed JSON or null), headers }; rejects only
 * when the server could not be reached. State-changing calls carry
 * the CSRF token, which the server demands whenever a cookie rides
 * along.
 */
function api(method, path, body) {
	var headers = {}, init;

	if (body !== undefined)
		headers['Content-Type'] = 'application/json';
	if (method !== 'GET' && session)
		headers['X-CSRF-Token'] = session.csrf_token;
	init = { method: method, headers: headers, cache: 'no-store',
	    credentials: 'same-origin' };
	if (body !== undefined)
		init.body = JSON.stringify(body);
	return fetch(path, init).then(function (r) {
		return r.text().then(function (t) {
			var data = null;

			try {
				data = t ? JSON.parse(t) : null;
			} catch (e) {
				data = null;
			}
			return { status: r.status, data: data,
			    headers: r.headers };
		});
	});
}

function serverSays(res) {
	return res.data && typeof res.data.message === 'string' &&
	    res.data.message !== '' ? res.data.message :
	    'HTTP ' + res.status;
}

function renew() {
	var prev = session;

	renewing = true;
	renewedAt = mono();
	api('POST', '/api/auth/renew').then(function (res) {
		if (session !== prev)
			return;		/* signed out meanwhile */
		renewing = false;
		if (sessionReply(res))
			adoptSession(res.data, prev);
		else
			endSession('Your session could not be renewed (' +
			    serverSays(res) + '); sign in again.');
	}, function () {
		if (session !== prev)
			return;
		/* The server is away: try again while time is left. */
		renewing = false;
	});
}

/*
 * The session is over for this page: revoke it if the server still
 * knows it (so its cookie goes too), then show the form.
 */
function endSession(msg) {
	var had = session !== null;

	stopLive();
	if (had)
		api('POST', '/api/auth/logout').then(function () {},
		    function () {});
	showSignin(msg, 'warning');
}

/* Four times a second: renew when due, end when over. */
function sessionTick() {
	var now = Date.now(), end;

	/* Until then a wrong clock could end a good session. */
	if (session === null || renewing || signingOut || !skewKnown)
		return;
	end = sessionEnd();
	if (now >= end)
		endSession('Your session has ended; sign in again.');
	else if (!session.final && now >= end - RENEW_BEFORE_MS &&
	    mono() - renewedAt >= RENEW_GAP_MS)
		renew();
}

/* ---- the header's account block ---- */

function showAccount(name, canSignOut) {
	var a = $('account');

	setText('account-name', name);
	$('signout').hidden = !canSignOut;
	if (session && session.username === name) {
		a.setAttribute('data-expires', session.expires_at);
		a.title = (session.final ? 'This session ends at ' :
		    'This session renews itself; it now ends at ') +
		    fmtClock(sessionEnd()).slice(0, 5);
	} else {
		a.removeAttribute('data-expires');
		a.title = '';
	}
	a.hidden = false;
}

function hideAccount() {
	$('account').hidden = true;
	setText('account-name', '');
}

/* Who the live connection runs as: a login session or local trust. */
function fetchAccount(gen) {
	api('GET', '/api/auth/me').then(function (res) {
		var d = res.data;

		if (gen !== generation || res.status !== 200 || !d ||
		    typeof d.username !== 'string')
			return;
		setMe(d);
		if (d.auth === 'session') {
			/* Another tab signed in as someone else. */
			if (session && session.username !== d.username)
				clearSession();
			showAccount(d.username, true);
		} else if (d.auth === 'local') {
			showAccount(d.username, false);
		}
	}, function () {});
}

/* ---- the sign-in form ---- */

/* What each password realm type is, for the form's hint. */
var REALM_HINTS = {
	local: 'a Horcrux account',
	pam: 'a system account on this host',
	ldap: 'your directory account'
};

/*
 * The form's realms from GET /api/auth/realms (public): the password
 * realms in the select with a hint for each, a directory realm chosen
 * (where most people of such a site are), else the first; and one
 * "Sign in with …" link per OpenID Connect realm, which starts that
 * realm's sign-in at the provider (not a password realm, so not in the
 * select). Without an answer the form keeps the local and pam it was
 * written with.
 */
function loadRealms() {
	api('GET', '/api/auth/realms').then(function (res) {
		var list = res.status === 200 && res.data &&
		    Array.isArray(res.data.realms) ? res.data.realms : null;
		var sel = $('su-realm'), sso = $('su-sso'), hints = [];
		var links = 0;

		if (!list)
			return;
		while (sel.firstChild)
			sel.removeChild(sel.firstChild);
		while (sso.children.length > 1)
			sso.removeChild(sso.lastChild);
		list.forEach(function (r) {
			var o, a;

			if (!r || typeof r.name !== 'string' ||
			    typeof r.type !== 'string')
				return;
			if (r.type === 'oidc') {
				a = document.createElement('a');
				a.href = '/api/auth/oidc/start';
				a.className = 'sso-link';
				a.dataset.realm = r.name;
				a.textContent = typeof r.display === 'string' &&
				    r.display !== '' ? r.display :
				    'Sign in with ' + r.name;
				sso.appendChild(a);
				links++;
				return;
			}
			o = document.createElement('option');
			o.value = r.name;
			o.textContent = r.name;
			sel.appendChild(o);
			hints.push(r.name + ': ' + (REALM_HINTS[r.type] ||
			    'a ' + r.type + ' account'));
		});
		if (sel.options.length > 0)
			sel.selectedIndex = 0;
		list.forEach(function (r) {
			if (r && r.type === 'ldap' && typeof r.name === 'string')
				sel.value = r.name;
		});
		setText('su-realm-hint', hints.join('; '));
		sso.hidden = links === 0;
	}, function () {});
}

/* An error on the form: shown, and announced once. */
function setSigninError(msg) {
	setText('signin-error', msg);
	setText('signin-live', msg);
	$('su-pass').removeAttribute('aria-invalid');
}

function setBusy(busy) {
	var b = $('su-submit');

	b.disabled = busy || Date.now() < loginBlockedUntil;
	b.textContent = busy ? 'Signing in\u2026' : 'Sign in';
	$('signin-form').setAttribute('aria-busy', busy ? 'true' :
	    'false');
}

function focusForm() {
	var f = $('su-user').value === '' ? $('su-user') : $('su-pass');

	f.focus();
	f.select();
}

/* Stop the live connection for good (no retry). */
function stopLive() {
	var sock = ws;

	generation++;
	ws = null;
	clearTimeout(retryTimer);
	retryTimer = null;
	if (sock)
		sock.close(1000, 'signed out');
	setMe(null);
	/* The alerts belong to whoever saw them. */
	alerts = {};
	resolved = {};
	setText('alert-count', '0');
	while ($('alert-list').firstChild)
		$('alert-list').removeChild($('alert-list').firstChild);
}

function showSignin(msg, lv) {
	stopLive();
	clearSession();
	justSignedIn = false;
	signingOut = false;
	attempt = 0;
	noAccess = false;
	resetView();
	hideAccount();
	$('signout').disabled = false;
	setConn('signin', '');
	status(lv, msg);
	setBusy(false);
	focusForm();
}

function loginBlockedText() {
	var left = Math.ceil((loginBlockedUntil - Date.now()) / 1000);

	return 'Too many failed sign-ins, try again in ' +
	    Math.max(left, 1) + ' s';
}

/* Counts a 429's wait down on the form, then lets it submit again. */
function loginTick() {
	if (loginBlockedUntil === 0)
		return;
	if (Date.now() < loginBlockedUntil) {
		setText('signin-error', loginBlockedText());
		return;
	}
	loginBlockedUntil = 0;
	setSigninError('');
	setBusy(signingIn);
}

function signIn(ev) {
	var user = $('su-user').value.trim();
	var pass = $('su-pass').value;
	var realm = $('su-realm').value;

	ev.preventDefault();
	if (signingIn || Date.now() < loginBlockedUntil)
		return;
	if (user === '' || pass === '') {
		setSigninError('Enter a username and a password');
		focusForm();
		return;
	}
	signingIn = true;
	setBusy(true);
	setSigninError('');
	api('POST', '/api/auth/login', { username: user,
	    password: pass, realm: realm }).then(function (res) {
		var d = res.data, wait;

		signingIn = false;
		if (sessionReply(res) && typeof d.username === 'string') {
			$('su-pass').value = '';
			serverSkew = Date.parse(d.expires_at) - SESSION_MS -
			    Date.now();
			skewKnown = true;
			adoptSession(d, null);
			justSignedIn = true;
			attempt = 0;
			setBusy(false);
			status('info', 'Signed in as ' + session.username +
			    '; connecting\u2026');
			connect();
			return;
		}
		if (res.status === 401) {
			setSigninError('Invalid username or password');
			$('su-pass').setAttribute('aria-invalid', 'true');
		} else if (res.status === 429) {
			wait = parseInt(res.headers.get('Retry-After'),
			    10);
			if (!isNum(wait) || wait < 1)
				wait = 60;
			loginBlockedUntil = Date.now() + wait * 1000;
			setSigninError(loginBlockedText());
		} else if (res.status === 200) {
			setSigninError('The server\'s answer could not be ' +
			    'read');
		} else {
			setSigninError(serverSays(res));
		}
		setBusy(false);
		focusForm();
	}, function () {
		signingIn = false;
		setSigninError('Cannot reach the server');
		setBusy(false);
		focusForm();
	});
}

function signOut() {
	if (signingOut || session === null && connState === 'signin')
		return;
	signingOut = true;
	$('signout').disabled = true;
	api('POST', '/api/auth/logout').then(function (res) {
		/* 401: the session was over already; so are we. */
		if (res.status === 204 || res.status === 200 ||
		    res.status === 401) {
			showSignin('Signed out.', 'info');
			return;
		}
		failedSignOut(res.status === 403 && session === null ?
		    'this tab did not sign in, so it holds no CSRF ' +
		    'token; sign out where you signed in' :
		    serverSays(res));
	}, function () {
		failedSignOut('cannot reach the server');
	});
}

function failedSignOut(why) {
	signingOut = false;
	$('signout').disabled = false;
	status('error', 'Sign-out failed: ' + why + '.');
	if (ws === null && retryTimer === null)
		connect();
}

/* ---- the connection ---- */

function backoffMs(n) {
	var d = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, n));

	/* Jitter downwards so the cap stays a cap. */
	return d * (1 - 0.25 * Math.random());
}

function scheduleRetry(state) {
	var delay = backoffMs(attempt);

	if (browserOffline()) {
		goOffline();
		return;
	}
	attempt++;
	retryAt = mono() + delay;
	clearTimeout(retryTimer);
	retryTimer = setTimeout(connect, delay);
	setConn(state, '');
	tick();
}

/*
 * The browser reports a refused upgrade (HTTP 401) only as a close
 * before open. Ask /api/nodes/local, which is behind the same
 * authentication, to learn why: 401 needs a sign-in, 403 lacks the
 * privilege, a network error means the server itself is away.
 */
function diagnose(gen) {
	var done = function (state, msg, lv) {
		if (gen !== generation)
			return;
		status(lv, msg);
		scheduleRetry(state);
	};

	api('GET', '/api/nodes/local').then(function (res) {
		if (gen !== generation)
			return;
		if (res.status === 401)
			showSignin(justSignedIn ? 'Signed in, but the ' +
			    'browser did not send the session cookie ' +
			    'back (are cookies blocked for this site?).' :
			    'Sign in to see live data (the server ' +
			    'answered HTTP 401).', 'warning');
		else if (res.status === 403)
			done('forbidden', 'The server refused the live ' +
			    'connection, and this account may not read ' +
			    'node metrics (HTTP 403).', 'error');
		else
			done('reconnecting', 'The server refused the ' +
			    'live connection (HTTP ' + res.status +
			    ' on probe).', 'error');
	}, function () {
		done('offline', 'The server cannot be reached.',
		    'error');
	});
}

/*
 * The daemon's protocol as {event type: topic}, for the events whose
 * topic it lists. Fetched once and kept (the daemon marks it cacheable
 * by ETag); a failure is forgotten, so the next connection asks again.
 */
function loadProtocol() {
	if (protocol !== null)
		return protocol;
	protocol = fetch('/api/protocol', { credentials: 'same-origin' })
	    .then(function (r) {
		if (!r.ok)
			throw new Error('HTTP ' + r.status);
		return r.json();
	}).then(function (p) {
		var names = [], map = {};

		if (!p || !Array.isArray(p.topics) ||
		    !Array.isArray(p.events))
			throw new Error('not a protocol description');
		p.topics.forEach(function (t) {
			if (t && typeof t.name === 'string')
				names.push(t.name);
		});
		p.events.forEach(function (e) {
			if (e && typeof e.type === 'string' &&
			    names.indexOf(e.topic) >= 0 &&
			    !Object.prototype.hasOwnProperty.call(map, e.type))
				map[e.type] = e.topic;
		});
		nodeTopic = map.NodeMetrics || null;
		alertTopic = map.AlertTriggered || null;
		return map;
	});
	protocol.then(null, function () {
		protocol = null;
	});
	return protocol;
}

/*
 * The topics to ask for now: those of the frame's events, then those
 * of the events the current route renders, each once, in that order.
 */
function topicsNow(map) {
	var topics = [];

	ALWAYS.concat(routeEvents(), Object.keys(wants)).forEach(
	    function (type) {
		var t = Object.prototype.hasOwnProperty.call(map, type) ?
		    map[type] : null;

		if (t !== null && topics.indexOf(t) < 0)
			topics.push(t);
	});
	return topics;
}

/*
 * Send SOCK the topics of the pages on screen, once the protocol is
 * known, unless it has that set already. The first message after the
 * welcome carries the resume point (sock.hxResume) when there is one;
 * every message asks for batches when the daemon has them (a later
 * {"topics"} replaces the whole subscription, batch included).
 */
function subscribe(sock) {
	loadProtocol().then(function (map) {
		var topics, key, m;

		if (sock !== ws || !sock.hxWelcomed)
			return;
		topics = topicsNow(map);
		key = topics.join(' ');
		if (key === sock.hxTopics)
			return;
		sock.hxTopics = key;
		m = { topics: topics };
		if (sock.hxBoot !== null) {
			m.batch = true;
			if (sock.hxResume !== null && !sock.hxSent)
				m.resume = sock.hxResume;
		}
		sock.hxSent = true;
		sock.send(JSON.stringify(m));
	}, function (e) {
		if (sock === ws)
			drop('Cannot read the server\'s protocol (' +
			    e.message + '); reconnecting.');
	});
}

/*
 * The welcome (the first Notification of a connection): learn the
 * daemon's boot and decide whether this connection resumes. A daemon
 * without boot_id has no seq either: nothing to resume or to drop.
 * Resuming needs a seq of the same boot; a new boot starts from the
 * welcome's own seq (if any), as everything older is read from REST.
 */
function welcome(sock, d) {
	var boot = typeof d.boot_id === 'string' && d.boot_id !== '' ?
	    d.boot_id : null;

	sock.hxWelcomed = true;
	sock.hxBoot = boot;
	sock.hxResume = null;
	if (boot === null) {
		bootId = null;
		lastSeq = null;
	} else if (boot === bootId && lastSeq !== null) {
		sock.hxResume = { boot_id: bootId, after: lastSeq };
	} else {
		if (bootId !== null && lastSeq !== null)
			sock.hxResume = { boot_id: bootId, after: lastSeq };
		bootId = boot;
		lastSeq = seqOf(d, null);
	}
	subscribe(sock);
}

/* An event's seq, or NONE: in its data, or beside it. */
function seqOf(d, msg) {
	if (isNum(d.seq))
		return d.seq;
	if (msg && isNum(msg.seq))
		return msg.seq;
	return null;
}

/*
 * Seen already? An event of this boot whose seq is not above the
 * highest seen is a replay of one shown: drop it. Otherwise note it.
 */
function seenBefore(d, msg) {
	var n = seqOf(d, msg);

	if (bootId === null || n === null)
		return false;
	if (lastSeq !== null && n <= lastSeq)
		return true;
	lastSeq = n;
	return false;
}

/*
 * The stream cannot be trusted to have brought every event (a fresh
 * subscription, or the daemon could not replay): read the firing alerts
 * again and tell the pages to read what they show.
 */
function resync(sock) {
	alerts = {};
	resolved = {};
	renderAlerts();
	if (alertTopic !== null)
		fetchAlerts(sock);
	resyncs.forEach(function (fn) {
		try {
			fn();
		} catch (e) {
			status('error', 'The page failed to read its state ' +
			    'again: ' + e.message);
		}
	});
}

/* The route changed: send its topics if they differ. */
function routeChanged() {
	if (ws !== null && ws.hxWelcomed)
		subscribe(ws);
}

/* ---- the firing alerts ---- */

function renderAlerts() {
	var list = $('alert-list'), ids = Object.keys(alerts);

	ids.sort(function (a, b) {
		return String(alerts[a].started_at || '').localeCompare(
		    String(alerts[b].started_at || ''));
	});
	while (list.firstChild)
		list.removeChild(list.firstChild);
	ids.forEach(function (id) {
		var a = alerts[id], sev = SEVERITIES[a.severity] ?
		    a.severity : 'info', li = el('li', 'alert');
		var since = Date.parse(a.started_at);

		li.setAttribute('data-severity', sev);
		li.setAttribute('data-alert-id', id);
		li.appendChild(el('span', 'alert-sev',
		    SEVERITIES[sev].glyph + ' ' + SEVERITIES[sev].word));
		li.appendChild(el('span', 'alert-rule', text(a.rule_name)));
		li.appendChild(el('span', 'alert-target', text(a.target)));
		li.appendChild(el('span', 'alert-value', isNum(a.value) ?
		    'value ' + fixed(a.value, 2) +
		    (isNum(a.threshold) ? ' (threshold ' +
		    fixed(a.threshold, 2) + ')' : '') : ''));
		li.appendChild(el('span', 'alert-since', isNum(since) ?
		    'since ' + fmtClock(since) : ''));
		list.appendChild(li);
	});
	setText('alert-count', String(ids.length));
	$('alerts').hidden = connState === 'signin' || ids.length === 0;
}

function addAlert(d) {
	if (typeof d.alert_id !== 'string' || resolved[d.alert_id])
		return;
	alerts[d.alert_id] = {
		rule_name: d.rule_name, severity: d.severity,
		target: d.target, value: d.value,
		threshold: d.threshold,
		started_at: alerts[d.alert_id] ?
		    alerts[d.alert_id].started_at :
		    d.started_at || d.timestamp
	};
}

/* The alerts firing before we subscribed: the events bring the rest. */
function fetchAlerts(sock) {
	api('GET', '/api/alerts?state=firing').then(function (res) {
		if (sock !== ws || res.status !== 200 || !res.data ||
		    !Array.isArray(res.data.alerts))
			return;
		res.data.alerts.forEach(function (a) {
			if (a && a.state === 'firing')
				addAlert(a);
		});
		renderAlerts();
	}, function () {});
}

function drop(msg) {
	var sock = ws;

	ws = null;
	generation++;
	if (sock)
		sock.close(4000, 'client gave up');
	status('error', msg);
	scheduleRetry('reconnecting');
}

function handle(sock, raw) {
	var msg, d, topics, lv;

	try {
		msg = JSON.parse(raw);
	} catch (e) {
		status('error', 'Unreadable message from the server.');
		return;
	}
	if (!msg || typeof msg !== 'object')
		return;
	d = msg.data && typeof msg.data === 'object' ? msg.data : {};
	/*
	 * These are stamped when sent (a metric's stamp is its sample
	 * time, which may be older): the server's clock, give or take
	 * the network.
	 */
	if (['Notification', 'Subscribed', 'Ping', 'Error'].indexOf(
	    msg.type) >= 0 && isNum(Date.parse(d.timestamp))) {
		serverSkew = Date.parse(d.timestamp) - Date.now();
		skewKnown = true;
	}
	/* The welcome is this connection's, never a replay. */
	if (msg.type === 'Notification' && !sock.hxWelcomed) {
		welcome(sock, d);
	} else if (seenBefore(d, msg)) {
		return;		/* shown already: resumed past it */
	}
	switch (msg.type) {
	case 'Notification':
		lv = ['info', 'warning', 'error'].indexOf(d.level) >= 0 ?
		    d.level : 'info';
		status(lv, (typeof d.title === 'string' ?
		    d.title + ': ' : '') + text(d.message), lv === 'info');
		break;
	case 'Subscribed':
		attempt = 0;
		topics = Array.isArray(d.topics) ? d.topics : [];
		/*
		 * The first answer of a connection that did not resume:
		 * what happened while away came on no stream.
		 */
		if (!sock.hxSynced) {
			sock.hxSynced = true;
			if (sock.hxResume === null)
				resync(sock);
		}
		setNoAccess(nodeTopic === null ||
		    topics.indexOf(nodeTopic) < 0);
		break;
	case 'Error':
		if (d.code === 'RESUME_GAP') {
			status('warning', 'Events were missed while ' +
			    'disconnected; the page read the current ' +
			    'state again.', true);
			resync(sock);
			break;
		}
		/* Refused now, or rights shrank mid-session. */
		if (d.code === 'FORBIDDEN_TOPIC' &&
		    d.topic === nodeTopic)
			setNoAccess(true);
		/* No alerts for this account: nothing to say. */
		if (d.code === 'FORBIDDEN_TOPIC' &&
		    d.topic === alertTopic && alertTopic !== null)
			break;
		/* A missing privilege is no fault of the system. */
		status(d.code === 'FORBIDDEN_TOPIC' ? 'warning' : 'error',
		    'Error ' + text(d.code) + ': ' +
		    text(d.message) + (typeof d.topic === 'string' ?
		    ' (' + d.topic + ')' : ''));
		break;
	case 'NodeMetrics':
		if (!noAccess)
			renderNode(d);
		break;
	case 'VmMetrics':
		vmTick([d]);
		break;
	case 'VmMetricsBatch':
		/* One tick for the pages; each VM for on('VmMetrics'). */
		d = Array.isArray(d.vms) ? d.vms.filter(function (v) {
			return v !== null && typeof v === 'object';
		}) : [];
		vmTick(d);
		d.forEach(function (v) {
			dispatch('VmMetrics', v, msg);
		});
		dispatch(msg.type, msg.data, msg);
		return;
	case 'AlertTriggered':
		addAlert(d);
		renderAlerts();
		break;
	case 'AlertResolved':
		if (typeof d.alert_id === 'string') {
			resolved[d.alert_id] = true;
			delete alerts[d.alert_id];
		}
		renderAlerts();
		break;
	default:
		break;		/* Ping, and topics this page ignores */
	}
	dispatch(msg.type, d, msg);
}

/* Does the browser say it has no network? (Unknown counts as online.) */
function browserOffline() {
	return typeof navigator === 'object' && navigator.onLine === false;
}

/*
 * The browser went offline: drop the socket (it cannot carry anything
 * now, and may take minutes to notice), stop retrying, and say so. The
 * sign-in form stays where it is; only the line below the nav tells.
 */
function goOffline() {
	var sock = ws;

	if (connState === 'signin') {
		status('warning', 'This browser is offline.');
		return;
	}
	generation++;
	ws = null;
	clearTimeout(retryTimer);
	retryTimer = null;
	if (sock)
		sock.close(1000, 'browser offline');
	setConn('offline', 'no network');
	status('warning', 'This browser is offline; the page reconnects ' +
	    'when the network is back.');
}

/* The network is back: try at once, the backoff starts afresh. */
function goOnline() {
	if (connState !== 'offline' || signingOut)
		return;
	attempt = 0;
	connect();
}

function connect() {
	var gen = ++generation;
	var proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
	var sock, opened = false;

	clearTimeout(retryTimer);
	retryTimer = null;
	if (browserOffline()) {
		goOffline();
		return;
	}
	if (connState === 'forbidden')
		setConn(connState, 'trying again\u2026');
	else
		setConn('connecting', attempt > 0 ?
		    'attempt ' + (attempt + 1) : '');
	try {
		sock = new WebSocket(proto + '//' + location.host +
		    '/api/ws');
	} catch (e) {
		status('error', 'Cannot open the live connection: ' +
		    e.message);
		scheduleRetry('reconnecting');
		return;
	}
	ws = sock;
	sock.onopen = function () {
		if (gen !== generation)
			return;
		opened = true;
		justSignedIn = false;
		lastMessageAt = mono();
		setConn('connected', 'live');
		status('info', 'Connected; waiting for the server.');
		fetchAccount(gen);
	};
	sock.onmessage = function (ev) {
		if (gen !== generation)
			return;
		lastMessageAt = mono();
		handle(sock, ev.data);
	};
	sock.onclose = function (ev) {
		if (gen !== generation)
			return;
		ws = null;
		if (signingOut)
			return;	/* the logout answer decides */
		if (opened) {
			status('warning', 'Connection closed (' +
			    describeClose(ev) + ').');
			scheduleRetry('reconnecting');
		} else {
			diagnose(gen);
		}
	};
}

/* Sample age, retry countdown, silence check. */
function tick() {
	var now = Date.now(), age = now - sampleAt;
	var stale = !isNum(age) || age > STALE_MS;
	var wait;

	if (statusUntil !== 0 && now >= statusUntil)
		status('info', '');
	setText('sample-age', isNum(age) ? fmtAge(age) +
	    (stale ? ' (stale)' : '') : DASH);
	$('sample-age').setAttribute('data-stale', stale ? 'true' :
	    'false');
	document.body.setAttribute('data-stale', stale ? 'true' :
	    'false');
	if (retryTimer !== null) {
		wait = Math.max(0, retryAt - mono()) / 1000;
		setText('conn-detail', 'retry in ' + wait.toFixed(1) + ' s');
	}
	if (ws !== null && connState === 'connected' &&
	    mono() - lastMessageAt > SILENCE_MS)
		drop('The server went silent; reconnecting.');
}

/* ---- what the pages use ---- */

function dispatch(type, d, msg) {
	(listeners[type] || []).forEach(function (fn) {
		try {
			fn(d, msg);
		} catch (e) {
			status('error', 'The page failed on a ' + type +
			    ' event: ' + e.message);
		}
	});
}

function setMe(d) {
	if (me === d)
		return;
	me = d;
	watchers.forEach(function (fn) {
		fn(me);
	});
}

/* A VM tick: a batch, or one VmMetrics from a daemon without them. */
function vmTick(list) {
	vmTicks.forEach(function (fn) {
		try {
			fn(list);
		} catch (e) {
			status('error', 'The page failed on a VM tick: ' +
			    e.message);
		}
	});
}

/*
 * on(TYPE, FN): call FN(data, message) for every event of TYPE that
 * arrives. Called by a page module when it loads, before start(). The
 * events come while a route that names TYPE in its events is shown
 * (the frame's own events always do). A VmMetricsBatch also calls each
 * VmMetrics listener once per VM in it.
 */
export function on(type, fn) {
	if (!listeners[type])
		listeners[type] = [];
	listeners[type].push(fn);
}

/*
 * want(TYPES) -> release(): subscribe to the topics of TYPES while a
 * component that renders them is mounted, whatever the route (a VM's
 * charts mounted on another page); release() gives them back.
 */
export function want(types) {
	var held = true;

	types.forEach(function (t) {
		wants[t] = (wants[t] || 0) + 1;
	});
	routeChanged();
	return function () {
		if (!held)
			return;
		held = false;
		types.forEach(function (t) {
			if (--wants[t] <= 0)
				delete wants[t];
		});
		routeChanged();
	};
}

/*
 * onVmTick(FN): FN(list) once per VM tick with the VmMetrics data of
 * every VM in it (a VmMetricsBatch), or with one (a daemon that sends
 * them one by one). A page draws the tick in one frame.
 */
export function onVmTick(fn) {
	vmTicks.push(fn);
}

/*
 * onResync(FN): FN() when the live stream may have missed events (a
 * new connection that did not resume, or Error RESUME_GAP): the page
 * reads what it shows again from REST.
 */
export function onResync(fn) {
	resyncs.push(fn);
}

/*
 * onAccount(FN): FN(me) whenever who the page runs as becomes known
 * (GET /api/auth/me's answer), and FN(null) when the session ends.
 */
export function onAccount(fn) {
	watchers.push(fn);
	if (me !== null)
		fn(me);
}

export function account() {
	return me;
}

/*
 * can(PRIV, PATH): does the account hold PRIV on PATH or on an ancestor
 * of it, as /api/auth/me lists them? It only decides what the page
 * shows: the daemon checks every request again.
 */
export function can(priv, path) {
	var p = me && me.privileges ? me.privileges : null;
	var at = path || '/';

	if (p === null)
		return false;
	for (;;) {
		if (Array.isArray(p[at]) && p[at].indexOf(priv) >= 0)
			return true;
		if (at === '/')
			return false;
		at = at.slice(0, at.lastIndexOf('/')) || '/';
	}
}

export { api, serverSays, status };

/*
 * The skip link: to the sign-in form's first field when it shows, else
 * to the main element (the next Tab enters the page). Its href is a
 * #fragment, which here would be a page route, so it never follows it.
 */
function skipToMain(ev) {
	ev.preventDefault();
	if (!$('signin').hidden)
		focusForm();
	else
		$('main').focus();
}

/* Start the page: sign-in form, session, live connection. Once. */
export function start() {
	document.getElementById('cpu-total').appendChild(cpuBar.root);
	document.getElementById('mem-bar').appendChild(memBar.root);
	document.getElementById('swap-bar').appendChild(swapBar.root);
	$('disk-fullest').appendChild(fullestBar.root);
	loadBars.forEach(function (b) {
		b.track.setAttribute('aria-label', 'Load average over ' +
		    b.label.textContent + ', per core');
		$('load-bars').appendChild(b.root);
	});
	$('signin-form').addEventListener('submit', signIn);
	$('signout').addEventListener('click', signOut);
	$('skip').addEventListener('click', skipToMain);
	window.addEventListener('offline', goOffline);
	window.addEventListener('online', goOnline);
	session = loadSession();
	loadProtocol();
	loadRealms();
	onRoute(routeChanged);
	setInterval(function () {
		tick();
		sessionTick();
		loginTick();
	}, 250);
	connect();
}
