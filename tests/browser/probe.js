/*
 * probe.js - injected by cdp.py's navigate before the page's own scripts.
 * Records what a test must assert on but the page does not show: CSP
 * violations, uncaught errors, and every WebSocket the page opens (time
 * and URL), in window.__hx. It wraps WebSocket without changing it.
 */
(function () {
	var hx = window.__hx = { csp: [], errors: [], ws: [] };
	var Real = window.WebSocket;

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
})();
