/*
 * probe.js - injected by cdp.py's navigate before the page's own scripts.
 * Records what a test must assert on but the page does not show: CSP
 * violations, uncaught errors, every WebSocket the page opens (time and
 * URL) and every fetch (method, URL, X-CSRF-Token sent, status), all in
 * window.__hx. It wraps WebSocket and fetch without changing them.
 */
(function () {
	var hx = window.__hx = { csp: [], errors: [], ws: [], fetches: [] };
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
