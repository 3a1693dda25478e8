/*
 * ws-tap.js - injected after probe.js by tests/0355-web-stream.bats: a
 * tap on the page's real WebSocket, changing nothing it carries. It
 * records in window.__tap every text the page sends (sent), a summary
 * of every message it receives (got: type, seq, the number of VMs in a
 * batch, an Error's code, and the raw text), the sockets (socks, so a
 * test can close one as a network fault would), and which frame
 * (counted by requestAnimationFrame) each change to the VM table came
 * in, with the number of batches received by then (muts).
 *
 * __tap.hold = true makes the next connections fail as an unreachable
 * server does (a close before open, no network involved), until it is
 * false again: a test makes events happen while the page is away.
 */
(function () {
	var tap = window.__tap = { sent: [], got: [], socks: [], muts: [],
	    frame: 0, batches: 0, hold: false, held: 0 };
	var Prev = window.WebSocket;
	var realSend = Prev.prototype.send;

	Prev.prototype.send = function (data) {
		tap.sent.push(String(data));
		return realSend.apply(this, arguments);
	};

	function Failing() {
		var self = this;

		this.readyState = 0;
		tap.held++;
		setTimeout(function () {
			self.readyState = 3;
			if (self.onclose)
				self.onclose({ code: 1006, reason: '' });
		}, 0);
	}
	Failing.prototype.send = function () {};
	Failing.prototype.close = function () {};

	function Tapped(url, protocols) {
		var s;

		if (tap.hold)
			return new Failing();
		s = protocols === undefined ? new Prev(url) :
		    new Prev(url, protocols);
		tap.socks.push(s);
		s.addEventListener('message', function (ev) {
			var m, d, rec;

			try {
				m = JSON.parse(ev.data);
			} catch (e) {
				return;
			}
			d = m && m.data && typeof m.data === 'object' ?
			    m.data : {};
			rec = { type: m.type, sock: tap.socks.length,
			    seq: typeof d.seq === 'number' ? d.seq :
			    typeof m.seq === 'number' ? m.seq : null };
			if (m.type === 'VmMetricsBatch') {
				tap.batches++;
				rec.n = Array.isArray(d.vms) ? d.vms.length : -1;
			}
			if (m.type === 'Error')
				rec.code = d.code;
			if (m.type !== 'VmMetrics' && m.type !== 'NodeMetrics' &&
			    m.type !== 'VmMetricsBatch')
				rec.raw = ev.data;
			tap.got.push(rec);
		});
		return s;
	}
	Tapped.prototype = Prev.prototype;
	['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'].forEach(function (k) {
		Tapped[k] = Prev[k];
	});
	window.WebSocket = Tapped;

	function count() {
		tap.frame++;
		requestAnimationFrame(count);
	}
	requestAnimationFrame(count);

	/* One record per observer callback that touched the VM table. */
	new MutationObserver(function (ms) {
		var n = 0;

		ms.forEach(function (m) {
			var t = m.target.nodeType === 3 ? m.target.parentNode :
			    m.target;

			if (t && t.closest && t.closest('#vms-table tbody'))
				n++;
		});
		if (n > 0)
			tap.muts.push({ frame: tap.frame, batches: tap.batches,
			    n: n });
	}).observe(document, { subtree: true, childList: true,
	    characterData: true, attributes: true });
})();
