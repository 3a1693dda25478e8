/*
 * charts.js - the history charts: the page #/charts (the host's CPU,
 * memory, disk and network over a range) and mountCharts(), the same
 * set for one VM, which the VM page embeds.
 *
 * A set is one RangeBar and four Charts (chart.js) that move together:
 * picking a range, zooming one chart (a drag, + and -), panning and
 * resetting refetch all four from GET /api/metrics/history with the same
 * from, to and step. Which series exist, and their units, come from GET
 * /api/metrics/series (the series the caller may read), so an account
 * without the right to a host's or VM's history gets a sentence, not an
 * error. The range lives in the URL (?range=1h, or from and to in RFC
 * 3339 for a custom or zoomed one), so a deep link survives a reload.
 * The live tail comes from NodeMetrics (host) and VmMetrics (one VM)
 * events: appended, never refetched.
 *
 * It does not keep data across pages: leaving the page drops the set.
 */

import { api, on, onAccount, onVmTick, serverSays, want } from './shell.js';
import { route, setQuery, currentQuery } from './router.js';
import { el, clear, isNum } from './ui.js';
import { Chart, RangeBar, rangeByKey, stepFor } from './chart.js';

var DEFAULT_RANGE = '1h';

/* The four charts, by field; series names are PREFIX + field. */
var LAYOUT = [
	{ id: 'cpu', title: 'CPU', fields: [['cpu_usage', 'CPU used']] },
	{ id: 'memory', title: 'Memory', fields: [['memory_usage',
	    'Memory used']] },
	{ id: 'disk', title: 'Disk I/O', fields: [['disk_read_bps', 'Read'],
	    ['disk_write_bps', 'Write']] },
	{ id: 'network', title: 'Network', fields: [['network_rx_bps',
	    'Receive'], ['network_tx_bps', 'Transmit']] }
];

var sets = [];		/* the live sets, for the events */
var pageSet = null;	/* the #/charts page's */
var seq = 0;		/* ids for elements */

/* The range a URL query names: {range} or {from, to}, else the default. */
function rangeOfQuery(q) {
	var f = Date.parse(q.from || ''), t = Date.parse(q.to || '');

	if (isNum(f) && isNum(t) && f < t)
		return { from: f, to: t };
	if (q.range && rangeByKey(q.range))
		return { range: q.range };
	return { range: DEFAULT_RANGE };
}

/*
 * new ChartSet(container, {prefix, what, url, note}): PREFIX is
 * "node:" or "vm:ID:"; WHAT names the subject in messages; URL: keep
 * the range in the page's query.
 */
function ChartSet(container, o) {
	var self = this;

	this.o = o;
	this.id = 'cs' + (++seq);
	this.gen = 0;
	this.charts = [];
	this.root = el('div', 'chart-set');
	this.root.setAttribute('data-scope', o.prefix);
	this.bar = new RangeBar(this.id, {
		pick: function (r) {
			self.setRange(r, true);
		},
		pan: function (dir) {
			self.pan(dir);
		},
		reset: function () {
			self.resetZoom();
		}
	});
	this.msg = el('p', 'chart-msg', '');
	this.msg.setAttribute('role', 'status');
	this.grid = el('div', 'chart-grid');
	this.root.appendChild(this.bar.root);
	this.root.appendChild(this.msg);
	this.root.appendChild(this.grid);
	container.appendChild(this.root);
	this.base = { range: DEFAULT_RANGE };	/* what Reset goes back to */
	this.range = o.url ? rangeOfQuery(currentQuery()) : this.base;
	if (this.range.range)
		this.base = this.range;
	sets.push(this);
	this.load();
}

/* Learn which series exist, then build the charts and fetch. */
ChartSet.prototype.load = function () {
	var self = this, gen = ++this.gen;

	this.msg.textContent = 'Loading\u2026';
	api('GET', '/api/metrics/series').then(function (res) {
		var units = {};

		if (gen !== self.gen)
			return;
		if (res.status !== 200 || !res.data ||
		    !Array.isArray(res.data.series)) {
			self.refuse(res.status === 403 ? self.noRight() :
			    'The history cannot be read: ' + serverSays(res));
			return;
		}
		res.data.series.forEach(function (s) {
			if (s && typeof s.name === 'string')
				units[s.name] = typeof s.unit === 'string' ?
				    s.unit : '';
		});
		self.build(units);
	}, function () {
		if (gen === self.gen)
			self.refuse('The server cannot be reached.');
	});
};

ChartSet.prototype.noRight = function () {
	return this.o.prefix === 'node:' ?
	    'Your account may not read the host\u2019s history: that ' +
	    'needs the SysAudit privilege on /nodes (the Auditor role ' +
	    'has it); an administrator can grant it.' :
	    'Your account may not read the history of ' + this.o.what +
	    ': that needs the VmAudit privilege on it.';
};

ChartSet.prototype.refuse = function (msg) {
	this.msg.textContent = msg;
	this.root.setAttribute('data-state', 'refused');
	this.bar.root.hidden = true;
	this.grid.hidden = true;
};

ChartSet.prototype.build = function (units) {
	var self = this, prefix = this.o.prefix;

	LAYOUT.forEach(function (c) {
		var defs = c.fields.filter(function (f) {
			return units[prefix + f[0]] !== undefined;
		}).map(function (f) {
			return { name: prefix + f[0], label: f[1],
			    field: f[0] };
		});
		var chart;

		if (defs.length === 0)
			return;
		chart = new Chart({ id: self.id + '-' + c.id, title: c.title,
		    unit: units[defs[0].name], series: defs,
		    onZoom: function (f, t) {
			self.setRange({ from: f, to: t }, true);
		    },
		    onPan: function (dir) {
			self.pan(dir);
		    },
		    onReset: function () {
			self.resetZoom();
		    } });
		chart.root.setAttribute('data-kind', c.id);
		self.charts.push(chart);
		self.grid.appendChild(chart.root);
	});
	if (this.charts.length === 0) {
		this.refuse(this.noRight());
		return;
	}
	this.root.setAttribute('data-state', 'ready');
	this.msg.textContent = '';
	this.setRange(this.range, false);
};

/*
 * Show range R ({range} or {from, to}); FROM_USER: write it to the URL
 * (when the set keeps its range there).
 */
ChartSet.prototype.setRange = function (r, fromUser) {
	var now = Date.now(), from, to, live, step, gen, self = this;

	if (r.range) {
		to = now;
		from = now - rangeByKey(r.range).ms;
		live = true;
		this.base = { range: r.range };
	} else {
		from = Math.round(r.from);
		to = Math.round(r.to);
		live = false;
		if (to > now) {
			/* A range ending in the future is live to now. */
			from -= to - now;
			to = now;
			live = true;
		}
	}
	this.range = r;
	if (this.o.url && fromUser)
		setQuery(r.range ? { range: r.range, from: null, to: null } :
		    { range: null, from: new Date(from).toISOString(),
		    to: new Date(to).toISOString() });
	step = stepFor(to - from);
	gen = ++this.gen;
	this.root.setAttribute('data-from', String(from));
	this.root.setAttribute('data-to', String(to));
	this.root.setAttribute('data-step', String(step));
	this.root.setAttribute('data-range', r.range || 'custom');
	this.bar.show(r, from, to, step, live);
	this.charts.forEach(function (c) {
		var q = '/api/metrics/history?series=' +
		    encodeURIComponent(c.defs.map(function (d) {
			return d.name;
		    }).join(',')) + '&from=' +
		    encodeURIComponent(new Date(from).toISOString()) +
		    '&to=' + encodeURIComponent(new Date(to).toISOString()) +
		    '&step=' + step;

		c.setRange(from, to, step, live);
		api('GET', q).then(function (res) {
			if (gen !== self.gen)
				return;
			if (res.status === 200)
				c.setAnswer(res.data);
			else if (res.status === 404)
				c.setAnswer({ series: [] });
			else
				c.setError(res.status === 403 ?
				    self.noRight() : 'The history cannot be ' +
				    'read: ' + serverSays(res));
		}, function () {
			if (gen === self.gen)
				c.setError('The server cannot be reached.');
		});
	});
};

/* Move by half the shown span; never past now. */
ChartSet.prototype.pan = function (dir) {
	var c = this.charts[0], span, f, t;

	if (!c || !isNum(c.from))
		return;
	span = c.to - c.from;
	f = c.from + dir * span / 2;
	t = f + span;
	if (t >= Date.now() && this.base.range &&
	    rangeByKey(this.base.range).ms === span) {
		this.setRange(this.base, true);
		return;
	}
	this.setRange({ from: f, to: t }, true);
};

ChartSet.prototype.resetZoom = function () {
	this.setRange(this.base, true);
};

/* A live sample: TS (RFC 3339), VALUES by field name. */
ChartSet.prototype.live = function (ts, d) {
	var t = Date.parse(ts), values = {}, prefix = this.o.prefix;

	if (!isNum(t))
		return;
	LAYOUT.forEach(function (c) {
		c.fields.forEach(function (f) {
			if (isNum(d[f[0]]))
				values[prefix + f[0]] = d[f[0]];
		});
	});
	this.charts.forEach(function (c) {
		c.appendLive(t, values);
	});
};

ChartSet.prototype.destroy = function () {
	var i = sets.indexOf(this);

	if (i >= 0)
		sets.splice(i, 1);
	this.gen++;
	this.charts.forEach(function (c) {
		c.destroy();
	});
	this.charts = [];
	if (this.root.parentNode)
		this.root.parentNode.removeChild(this.root);
};

/*
 * mountCharts(CONTAINER, {scope: 'vm', vm: ID}) -> {destroy()}: the
 * CPU, memory, disk and network charts of VM ID (its name) inside
 * CONTAINER, with their own range bar, live from VmMetrics (held with
 * want() while mounted, whatever page shows them). The range
 * is kept in the current page's query unless url: false is given.
 * scope: 'node' shows the host's instead.
 */
export function mountCharts(container, opts) {
	var o = opts || {}, set, release;

	/* A VM's live tail needs its ticks, on whatever page it is. */
	release = o.scope === 'node' ? function () {} : want(['VmMetrics']);
	set = new ChartSet(container, {
		prefix: o.scope === 'node' ? 'node:' : 'vm:' + o.vm + ':',
		what: o.scope === 'node' ? 'this host' : 'VM ' + o.vm,
		vm: o.scope === 'node' ? null : o.vm,
		url: o.url !== false
	});
	return {
		destroy: function () {
			set.destroy();
			release();
		}
	};
}

/* ---- the #/charts page ---- */

function view() {
	return document.querySelector('[data-view="charts"]');
}

function enter(params, query) {
	var v = view(), h;

	if (pageSet) {
		/* Back or a new link on the same page: follow the URL. */
		pageSet.setRange(rangeOfQuery(query), false);
		return;
	}
	clear(v);
	h = el('h2', 'charts-title', 'Host history');
	v.appendChild(h);
	pageSet = new ChartSet(v, { prefix: 'node:', what: 'this host',
	    url: true });
}

function leave() {
	if (pageSet)
		pageSet.destroy();
	pageSet = null;
	clear(view());
}

route('charts', '/charts', { title: 'Charts', enter: enter,
    leave: leave, events: ['NodeMetrics'] });

on('NodeMetrics', function (d) {
	sets.forEach(function (s) {
		if (s.o.prefix === 'node:')
			s.live(d.timestamp, d);
	});
});

onVmTick(function (list) {
	sets.forEach(function (s) {
		if (s.o.vm === null || s.o.vm === undefined)
			return;
		list.forEach(function (d) {
			if (d.vm_id === s.o.vm)
				s.live(d.timestamp, d);
		});
	});
});

/* Signed out: forget what was shown; signed in again: show it anew. */
onAccount(function (me) {
	var v;

	if (me === null) {
		sets.slice().forEach(function (s) {
			s.destroy();
		});
		pageSet = null;
		v = view();
		if (v)
			clear(v);
		return;
	}
	/*
	 * Signed in (again): build what was refused or dropped. A set
	 * already built stays (a reconnect tells the same account).
	 */
	if (!view().hidden && (pageSet === null ||
	    pageSet.root.getAttribute('data-state') === 'refused')) {
		leave();
		enter([], currentQuery());
	}
});
