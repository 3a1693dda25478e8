/*
 * app.js - the Horcrux dashboard: one WebSocket to /api/ws, the
 * node:metrics and notifications topics, and a page that shows the newest
 * NodeMetrics sample (DESIGN.md section 3).
 *
 * It reconnects forever with a capped, jittered exponential backoff, and
 * tells a refused upgrade (the server wants credentials) apart from an
 * unreachable server by asking a public-shape REST route. Everything that
 * comes from the network reaches the DOM through textContent only; the
 * page builds its few repeated elements with createElement.
 *
 * It deliberately does not log in (user accounts come later), keep
 * history, draw charts, or load anything but this file and style.css.
 */
'use strict';

(function () {
	var BACKOFF_MIN_MS = 500;
	var BACKOFF_MAX_MS = 5000;
	var SILENCE_MS = 75000;		/* server Pings every 30 s */
	var STALE_MS = 5000;		/* a sample older than this is stale */
	var TOPICS = ['node:metrics', 'notifications'];
	var DASH = '\u2014';
	var SIGNIN_TEXT = 'Sign-in required: this server needs credentials; ' +
	    'log-in arrives with user accounts.';

	var ws = null;			/* the live socket, or null */
	var generation = 0;		/* bumps on every connect attempt */
	var attempt = 0;		/* failures since the last good session */
	var retryTimer = null;
	var retryAt = 0;
	var lastMessageAt = 0;
	var sampleAt = NaN;		/* ms since epoch of the newest sample */
	var connState = 'connecting';

	function $(id) {
		return document.getElementById(id);
	}

	/* ---- formatting: every formatter maps "not a number" to DASH ---- */

	function isNum(v) {
		return typeof v === 'number' && isFinite(v);
	}

	function fixed(v, digits) {
		return isNum(v) ? v.toFixed(digits) : DASH;
	}

	function fmtPct(v) {
		return isNum(v) ? v.toFixed(1) + '\u00a0%' : DASH;
	}

	function fmtBytes(n) {
		var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
		var i = 0, v = n;

		if (!isNum(n))
			return DASH;
		while (Math.abs(v) >= 1024 && i < units.length - 1) {
			v /= 1024;
			i++;
		}
		if (i === 0)
			return Math.round(v) + '\u00a0B';
		return v.toFixed(Math.abs(v) < 10 ? 2 : Math.abs(v) < 100 ?
		    1 : 0) + '\u00a0' + units[i];
	}

	function fmtRate(n) {
		return isNum(n) ? fmtBytes(n) + '/s' : DASH;
	}

	/* 25276026880 -> "25 276 026 880 bytes", grouped with thin spaces. */
	function fmtExactBytes(n) {
		if (!isNum(n))
			return DASH;
		return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g,
		    '\u202f') + ' bytes';
	}

	function fmtDuration(seconds) {
		var s = Math.floor(seconds), d, h, m;

		if (!isNum(seconds) || seconds < 0)
			return DASH;
		d = Math.floor(s / 86400);
		h = Math.floor(s % 86400 / 3600);
		m = Math.floor(s % 3600 / 60);
		s = s % 60;
		if (d > 0)
			return d + ' d ' + h + ' h ' + m + ' min';
		if (h > 0)
			return h + ' h ' + m + ' min';
		if (m > 0)
			return m + ' min ' + s + ' s';
		return s + ' s';
	}

	function fmtAge(ms) {
		if (!isNum(ms))
			return DASH;
		if (ms < 0)
			ms = 0;		/* clocks of browser and host differ */
		if (ms < 10000)
			return (ms / 1000).toFixed(1) + ' s';
		return fmtDuration(ms / 1000);
	}

	function pad(n, w) {
		var s = String(n);

		while (s.length < w)
			s = '0' + s;
		return s;
	}

	function fmtClock(ms) {
		var t = new Date(ms);

		return pad(t.getHours(), 2) + ':' + pad(t.getMinutes(), 2) + ':' +
		    pad(t.getSeconds(), 2) + '.' + pad(t.getMilliseconds(), 3);
	}

	function text(v) {
		return typeof v === 'string' && v !== '' ? v : DASH;
	}

	/* The threshold bands; the name is also the visible text label. */
	function level(pct) {
		if (!isNum(pct))
			return 'unknown';
		if (pct >= 90)
			return 'critical';
		if (pct >= 75)
			return 'warning';
		if (pct >= 50)
			return 'moderate';
		return 'good';
	}

	function el(tag, cls, content) {
		var e = document.createElement(tag);

		if (cls)
			e.className = cls;
		if (content !== undefined)
			e.textContent = content;
		return e;
	}

	function setText(id, v) {
		var e = $(id);

		if (e.textContent !== v)
			e.textContent = v;
	}

	/* ---- bars: label, value, level word, track, optional detail ---- */

	function Bar(label, compact) {
		var head = el('div', 'bar-head');

		this.root = el('div', compact ? 'bar compact' : 'bar');
		this.label = el('span', 'bar-label', label);
		this.value = el('span', 'bar-value', DASH);
		this.level = el('span', 'bar-level', 'no data');
		this.track = el('div', 'bar-track');
		this.fill = el('div', 'bar-fill');
		this.detail = compact ? null : el('div', 'bar-detail', '');
		head.appendChild(this.label);
		head.appendChild(this.value);
		head.appendChild(this.level);
		this.track.appendChild(this.fill);
		this.track.setAttribute('role', 'meter');
		this.track.setAttribute('aria-valuemin', '0');
		this.track.setAttribute('aria-valuemax', '100');
		this.track.setAttribute('aria-label', label);
		this.root.appendChild(head);
		this.root.appendChild(this.track);
		if (this.detail)
			this.root.appendChild(this.detail);
		this.root.setAttribute('data-level', 'unknown');
	}

	Bar.prototype.setLabel = function (label) {
		if (this.label.textContent !== label) {
			this.label.textContent = label;
			this.track.setAttribute('aria-label', label);
		}
	};

	Bar.prototype.update = function (pct, detail) {
		var lv = level(pct), shown = fmtPct(pct);

		this.root.setAttribute('data-level', lv);
		this.value.textContent = shown;
		this.level.textContent = lv === 'unknown' ? 'no data' : lv;
		/* CSSOM writes are allowed under style-src 'self'. */
		this.fill.style.width = isNum(pct) ?
		    Math.max(0, Math.min(100, pct)) + '%' : '0';
		if (isNum(pct))
			this.track.setAttribute('aria-valuenow', String(pct));
		else
			this.track.removeAttribute('aria-valuenow');
		this.track.setAttribute('aria-valuetext', shown + ', ' +
		    this.level.textContent);
		if (this.detail && detail !== undefined)
			this.detail.textContent = detail;
	};

	/* Keep exactly n bars in container, reusing the ones already there. */
	function syncBars(list, container, n, compact) {
		while (list.length < n) {
			list.push(new Bar('', compact));
			container.appendChild(list[list.length - 1].root);
		}
		while (list.length > n)
			container.removeChild(list.pop().root);
	}

	var cpuBar = new Bar('Total', false);
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

		sampleAt = ts;
		setText('sample-time', isNum(ts) ? fmtClock(ts) : DASH);
		$('sample-time').dateTime = isNum(ts) ? d.timestamp : '';
		tick();
	}

	/* ---- status line and connection indicator ---- */

	function status(lv, msg) {
		var s = $('status');

		s.setAttribute('data-level', lv);
		s.textContent = msg;
	}

	function setConn(state, detail) {
		var labels = {
			connecting: 'connecting',
			connected: 'connected',
			reconnecting: 'reconnecting',
			signin: 'sign-in required',
			forbidden: 'forbidden'
		};

		connState = state;
		$('conn').setAttribute('data-state', state);
		document.body.setAttribute('data-conn', state);
		setText('conn-dot', state === 'connected' ? '\u25cf' : '\u25cb');
		setText('conn-state', labels[state] || state);
		setText('conn-detail', detail || '');
		$('signin').hidden = state !== 'signin';
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

	/* ---- the connection ---- */

	function backoffMs(n) {
		var d = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, n));

		/* Jitter downwards so the cap stays a cap. */
		return d * (1 - 0.25 * Math.random());
	}

	function scheduleRetry(state) {
		var delay = backoffMs(attempt);

		attempt++;
		retryAt = Date.now() + delay;
		clearTimeout(retryTimer);
		retryTimer = setTimeout(connect, delay);
		setConn(state, '');
		tick();
	}

	/*
	 * The browser reports a refused upgrade (HTTP 401) only as a close
	 * before open. Ask /api/nodes/local, which is behind the same
	 * authentication, to learn why: 401 needs credentials, 403 lacks the
	 * privilege, a network error means the server itself is away.
	 */
	function diagnose(gen) {
		var done = function (state, msg, lv) {
			if (gen !== generation)
				return;
			status(lv, msg);
			scheduleRetry(state);
		};

		if (typeof fetch !== 'function') {
			done('reconnecting', 'Cannot open the live connection.',
			    'error');
			return;
		}
		fetch('/api/nodes/local', { cache: 'no-store',
		    credentials: 'same-origin' }).then(function (r) {
			if (r.status === 401)
				done('signin', 'The live connection was refused: ' +
				    'authentication required (HTTP 401).',
				    'warning');
			else if (r.status === 403)
				done('forbidden', 'Forbidden: this account may ' +
				    'not read node metrics.', 'error');
			else
				done('reconnecting', 'The server refused the ' +
				    'live connection (HTTP ' + r.status +
				    ' on probe).', 'error');
		}, function () {
			done('reconnecting', 'The server is unreachable.',
			    'error');
		});
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
		var msg, d, topics;

		try {
			msg = JSON.parse(raw);
		} catch (e) {
			status('error', 'Unreadable message from the server.');
			return;
		}
		if (!msg || typeof msg !== 'object')
			return;
		d = msg.data && typeof msg.data === 'object' ? msg.data : {};
		switch (msg.type) {
		case 'Notification':
			status(['info', 'warning', 'error'].indexOf(d.level) >= 0 ?
			    d.level : 'info', (typeof d.title === 'string' ?
			    d.title + ': ' : '') + text(d.message));
			/* The first one is the welcome: subscribe now. */
			if (!sock.hxSubscribed) {
				sock.hxSubscribed = true;
				sock.send(JSON.stringify({ topics: TOPICS }));
			}
			break;
		case 'Subscribed':
			attempt = 0;
			topics = Array.isArray(d.topics) ? d.topics : [];
			if (topics.indexOf('node:metrics') < 0)
				status('warning', 'Not subscribed to node metrics.');
			break;
		case 'Error':
			status('error', 'Error ' + text(d.code) + ': ' +
			    text(d.message) + (typeof d.topic === 'string' ?
			    ' (' + d.topic + ')' : ''));
			break;
		case 'NodeMetrics':
			renderNode(d);
			break;
		default:
			break;		/* Ping, and topics this page ignores */
		}
	}

	function connect() {
		var gen = ++generation;
		var proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
		var sock, opened = false;

		clearTimeout(retryTimer);
		retryTimer = null;
		/* A sign-in notice stays up while we try again. */
		if (connState === 'signin' || connState === 'forbidden')
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
			lastMessageAt = Date.now();
			setConn('connected', '');
			status('info', 'Connected; waiting for the server.');
		};
		sock.onmessage = function (ev) {
			if (gen !== generation)
				return;
			lastMessageAt = Date.now();
			handle(sock, ev.data);
		};
		sock.onclose = function (ev) {
			if (gen !== generation)
				return;
			ws = null;
			if (opened) {
				status('warning', 'Connection closed (' +
				    describeClose(ev) + ').');
				scheduleRetry('reconnecting');
			} else {
				diagnose(gen);
			}
		};
	}

	/* Four times a second: sample age, retry countdown, silence check. */
	function tick() {
		var now = Date.now(), age = now - sampleAt;
		var stale = !isNum(age) || age > STALE_MS;
		var wait;

		setText('sample-age', isNum(age) ? fmtAge(age) +
		    (stale ? ' (stale)' : '') : DASH);
		$('sample-age').setAttribute('data-stale', stale ? 'true' :
		    'false');
		document.body.setAttribute('data-stale', stale ? 'true' :
		    'false');
		if (retryTimer !== null) {
			wait = Math.max(0, retryAt - now) / 1000;
			setText('conn-detail', 'retry in ' + wait.toFixed(1) + ' s');
			setText('signin-retry', 'Retrying in ' + wait.toFixed(1) +
			    ' s (attempt ' + attempt + ').');
		}
		if (ws !== null && connState === 'connected' &&
		    now - lastMessageAt > SILENCE_MS)
			drop('The server went silent; reconnecting.');
	}

	document.getElementById('cpu-total').appendChild(cpuBar.root);
	document.getElementById('mem-bar').appendChild(memBar.root);
	document.getElementById('swap-bar').appendChild(swapBar.root);
	$('signin-text').textContent = SIGNIN_TEXT;
	setInterval(tick, 250);
	connect();
})();
