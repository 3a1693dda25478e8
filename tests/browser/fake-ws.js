/*
 * fake-ws.js - injected after probe.js for the rendering test: replaces
 * WebSocket with a scripted server that welcomes, records what the page
 * sends (window.__hxSent), and answers a subscription with one
 * NodeMetrics holding nulls, every threshold band, and markup in strings
 * (which must come out as text). No network is involved.
 */
(function () {
	var sent = window.__hxSent = [];

	function Fake(url) {
		var self = this;

		this.url = url;
		this.readyState = 0;
		setTimeout(function () {
			self.readyState = 1;
			if (self.onopen)
				self.onopen({});
			self.deliver('Notification', { level: 'warning',
			    title: 'Connected',
			    message: 'welcome <i>user</i> & co' });
		}, 20);
	}

	Fake.prototype.deliver = function (type, data) {
		data.timestamp = data.timestamp || new Date().toISOString();
		if (this.onmessage)
			this.onmessage({ data: JSON.stringify({ type: type,
			    data: data }) });
	};

	Fake.prototype.send = function (text) {
		var msg = JSON.parse(text);

		sent.push(text);
		if (!msg.topics)
			return;
		this.deliver('Subscribed', { topics: msg.topics });
		this.deliver('NodeMetrics', {
			hostname: '<img src=x id=pwned>',
			cpu_usage: null,
			memory_usage: 95,
			disk_usage: null,
			load_average: [null, 0, 1.5],
			cpu_cores: 4,
			cpu_per_core: [10, null, 80, 50],
			memory_total_bytes: null,
			memory_used_bytes: null,
			memory_available_bytes: 0,
			swap_usage: null,
			disks: [
				{ mount: '/<b>data</b>', usage: null,
				    total_bytes: null, used_bytes: null },
				{ mount: '/var', usage: 75, total_bytes: 4096,
				    used_bytes: 3072 }
			],
			disk_read_bps: null,
			disk_write_bps: 1536,
			network_rx_bps: 0,
			network_tx_bps: null,
			uptime_seconds: null
		});
	};

	Fake.prototype.close = function () {
		this.readyState = 3;
	};

	window.WebSocket = Fake;
})();
