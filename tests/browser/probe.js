/*
 * probe.js - injected by cdp.py's navigate before the page's own scripts.
 * Records what a test must assert on but the page does not show: CSP
 * violations, uncaught errors, every WebSocket the page opens (time and
 * URL), every fetch (method, URL, X-CSRF-Token sent, status) and every
 * text the status line showed, all in window.__hx. It wraps WebSocket and
 * fetch without changing them.
 *
 * The page's wall clock can be stopped, so a countdown or a message's
 * time on screen shows what the test expects however slowly the machine
 * runs: window.__hxFreezeClock() stops Date.now() where it is,
 * window.__hxAdvanceClock(ms) moves it on. Timers still fire in real
 * time; they just read the stopped clock.
 */
(function () {
	var hx = window.__hx = { csp: [], errors: [], ws: [], fetches: [],
	    statuses: [] };
	var Real = window.WebSocket;
	var realFetch = window.fetch;

	document.addEventListener('securitypolicyviolation', function (e) {
		hx.csp.push(e.violatedDirective + ' ' + e.blockedURI);
	});
	window.addEventListener('error', function (e) {
		hx.errors.push(String(e.message));
	});
	window.addEventListener('unhandledrejection', function (e) {
		hx.errors.push('unhandled rejection: ' + String(e.reason));
	});
	function Probed(url, protocols) {
		hx.ws.push({ t: performance.now(), url: String(url) });
		return protocols === undefined ? new Real(url) :
		    new Real(url, protocols);
	}
	Probed.prototype = Real.prototype;
	['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'].forEach(function (k) {
		Probed[k] = Real[k];
	});
	window.WebSocket = Probed;

	new MutationObserver(function (ms) {
		ms.forEach(function (m) {
			var t = m.target.nodeType === 3 ? m.target.parentNode :
			    m.target;

			if (t && t.id === 'status' && t.textContent !== '' &&
			    hx.statuses[hx.statuses.length - 1] !== t.textContent)
				hx.statuses.push(t.textContent);
		});
	}).observe(document, { subtree: true, childList: true,
	    characterData: true });

	window.__hxFreezeClock = function () {
		var at = Date.now();

		Date.now = function () {
			return at;
		};
		window.__hxAdvanceClock = function (ms) {
			at += ms;
			return at;
		};
		return at;
	};

	window.fetch = function (input, init) {
		var h = init && init.headers ? init.headers : {};
		var rec = {
			method: init && init.method ? init.method : 'GET',
			url: String(input),
			csrf: (typeof h.get === 'function' ?
			    h.get('X-CSRF-Token') : h['X-CSRF-Token']) || null,
			status: null
		};

		hx.fetches.push(rec);
		return realFetch.apply(this, arguments).then(function (r) {
			rec.status = r.status;
			return r;
		}, function (e) {
			rec.status = 'network error';
			throw e;
		});
	};
})();
