/*
 * chart.js - the dashboard's history chart, on uPlot: one plot of one or
 * more series of one unit, holding GET /api/metrics/history answers
 * (DESIGN.md section 8) and the live tail the page hands it, and the bar
 * of range controls a set of charts shares.
 *
 * Data. A chart keeps, per series, the answer's shape: {name, unit,
 * step, points: [[t_ms, v|null]...], min, max}. It always asks with an
 * explicit step (stepFor: about 1,000 points over the range), so its
 * points are the daemon's buckets: the first one starts at
 * floor(from / step) * step, as the daemon's are. New live samples
 * (appendLive) are averaged into buckets of the same step after the last
 * bucket the answer held; a sample inside that bucket is left out (the
 * answer already counted the samples before its `to`). Nothing is
 * refetched for the tail.
 *
 * What is shown is the range [from, to]: the plot's x scale, the table
 * view and both exports hold the points of the buckets that start in
 * [floor(from / step) * step, to], so a CSV export of a range that is
 * not live is byte for byte the daemon's format=csv answer for the same
 * from, to and step (union of the series' times, %.10g values, RFC 3339
 * times with milliseconds, CRLF). data-from, data-to (ms) and data-step
 * (s) on the chart's element say which; data-fetch-from and
 * data-fetch-to the last request's.
 *
 * This file does not fetch: the page (charts.js) asks the daemon and
 * calls setAnswer(). It builds its DOM with createElement and
 * textContent only, and writes styles through the CSSOM.
 */

import uPlot from '../vendor/uPlot.js';
import { DASH, clear, el, fmtBytes, isNum } from './ui.js';

export var RANGES = [
	{ key: '15m', label: '15 min', ms: 15 * 60000 },
	{ key: '1h', label: '1 h', ms: 3600000 },
	{ key: '6h', label: '6 h', ms: 6 * 3600000 },
	{ key: '24h', label: '24 h', ms: 24 * 3600000 },
	{ key: '7d', label: '7 d', ms: 7 * 86400000 },
	{ key: '30d', label: '30 d', ms: 30 * 86400000 }
];
var STEPS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600,
    7200, 10800, 21600, 43200, 86400];
var TARGET_POINTS = 1000;
var TABLE_MAX_ROWS = 5000;	/* beyond: the table says so, CSV has all */
var MIN_SPAN_MS = 10000;	/* a zoom narrower than this is a click */

export function rangeByKey(key) {
	var i;

	for (i = 0; i < RANGES.length; i++)
		if (RANGES[i].key === key)
			return RANGES[i];
	return null;
}

/* The step (s) a chart asks for over span ms: about 1,000 buckets. */
export function stepFor(spanMs) {
	var want = spanMs / 1000 / TARGET_POINTS, i;

	for (i = 0; i < STEPS.length; i++)
		if (STEPS[i] >= want)
			return STEPS[i];
	return STEPS[STEPS.length - 1];
}

/* The daemon's bucket_of: floor division, for negative times too. */
export function bucketOf(t, stepMs) {
	return Math.floor(t / stepMs) * stepMs;
}

/* ---- formatting ---- */

/*
 * v as C's printf("%.10g") writes it, which the daemon's CSV uses:
 * 10 significant digits rounded half to even on the exact binary value,
 * trailing zeros dropped, exponent form below 1e-4 and from 1e10.
 */
export function fmtG10(v) {
	var s, m, digits, exp, rest, round, i, out, mant;

	if (!isNum(v))
		return '';
	if (v === 0)
		return Object.is(v, -0) ? '-0' : '0';
	/* 100 significant digits: the exact value, for any tie we meet. */
	s = Math.abs(v).toExponential(99);
	m = /^(\d)\.(\d+)e([+-]\d+)$/.exec(s);
	digits = m[1] + m[2];
	exp = parseInt(m[3], 10);
	rest = digits.slice(10);
	digits = digits.slice(0, 10).split('').map(Number);
	if (rest[0] > '5' || (rest[0] === '5' && /[1-9]/.test(rest.slice(1))))
		round = true;
	else if (rest[0] === '5')
		round = digits[9] % 2 === 1;	/* a tie: to even */
	else
		round = false;
	if (round) {
		for (i = 9; i >= 0; i--) {
			if (digits[i] < 9) {
				digits[i]++;
				break;
			}
			digits[i] = 0;
		}
		if (i < 0) {
			digits.unshift(1);
			digits.pop();
			exp++;
		}
	}
	digits = digits.join('');
	if (exp < -4 || exp >= 10) {
		mant = digits[0];
		rest = digits.slice(1).replace(/0+$/, '');
		out = mant + (rest ? '.' + rest : '') + 'e' +
		    (exp < 0 ? '-' : '+') + (Math.abs(exp) < 10 ? '0' : '') +
		    Math.abs(exp);
	} else if (exp >= 0) {
		out = digits.slice(0, exp + 1);
		rest = digits.slice(exp + 1).replace(/0+$/, '');
		out += rest ? '.' + rest : '';
	} else {
		out = '0.' + '0'.repeat(-exp - 1) +
		    digits.replace(/0+$/, '');
	}
	return (v < 0 ? '-' : '') + out;
}

/* A CSV field as the daemon quotes it (RFC 4180). */
function csvField(s) {
	return /[,"\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

/* A value of UNIT for people: the axis, the legend and the table. */
export function fmtUnit(unit, v) {
	if (v === null || v === undefined || !isNum(v))
		return DASH;
	if (unit === 'percent')
		return (Math.abs(v) >= 10 ? v.toFixed(0) : v.toFixed(1)) +
		    '\u00a0%';
	if (unit === 'bytes/s')
		return fmtBytes(v) + '/s';
	if (unit === 'bytes')
		return fmtBytes(v);
	if (unit === 'seconds')
		return v.toFixed(0) + '\u00a0s';
	return String(Math.round(v * 100) / 100);
}

function pad2(n) {
	return (n < 10 ? '0' : '') + n;
}

/* ms -> "2026-12-05 03:29:00" in local time, for the table. */
export function fmtWhen(ms) {
	var d = new Date(ms);

	return d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' +
	    pad2(d.getDate()) + ' ' + pad2(d.getHours()) + ':' +
	    pad2(d.getMinutes()) + ':' + pad2(d.getSeconds());
}

/* ms -> the value of an <input type="datetime-local"> (local time). */
export function toLocalInput(ms) {
	var d = new Date(ms);

	return d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' +
	    pad2(d.getDate()) + 'T' + pad2(d.getHours()) + ':' +
	    pad2(d.getMinutes());
}

/* A CSS custom property of the page, for the canvas' colours. */
function cssVar(name, fallback) {
	var v = getComputedStyle(document.documentElement)
	    .getPropertyValue(name).trim();

	return v || fallback;
}

/* Offer TEXT as a file NAME: a Blob behind an <a download>. */
export function download(name, type, text) {
	var blob = new Blob([text], { type: type });
	var a = el('a');

	a.href = URL.createObjectURL(blob);
	a.download = name;
	a.hidden = true;
	document.body.appendChild(a);
	a.click();
	document.body.removeChild(a);
	/* The click has read the URL; let the download start first. */
	setTimeout(function () {
		URL.revokeObjectURL(a.href);
	}, 10000);
	return blob;
}

/* ---- the chart ---- */

/*
 * new Chart({id, title, unit, series: [{name, label}], onZoom(from, to),
 * onPan(dir), onReset()}): an empty chart; root is its element. The
 * callbacks let the page move every chart of a set together.
 */
export function Chart(opts) {
	var self = this, head, tools, id = opts.id;

	this.opts = opts;
	this.unit = opts.unit || '';
	this.defs = opts.series;
	this.series = [];	/* answer-shaped, one per def */
	this.from = NaN;
	this.to = NaN;
	this.step = NaN;	/* s */
	this.fetchFrom = NaN;
	this.fetchTo = NaN;
	this.lastFetched = -Infinity;	/* the answer's last bucket */
	this.acc = null;	/* the live bucket being averaged */
	this.live = false;
	this.plot = null;
	this.rowsCache = null;
	this.lastExport = null;

	this.root = el('section', 'chart');
	this.root.setAttribute('data-chart', id);
	this.root.setAttribute('aria-labelledby', 'chart-h-' + id);
	this.root.hxChart = this;
	head = el('div', 'chart-head');
	this.title = el('h3', 'chart-title', opts.title);
	this.title.id = 'chart-h-' + id;
	head.appendChild(this.title);
	tools = el('div', 'chart-tools');
	this.tableBtn = el('button', 'chart-btn', 'Show table');
	this.tableBtn.type = 'button';
	this.tableBtn.setAttribute('aria-expanded', 'false');
	this.tableBtn.setAttribute('aria-controls', 'chart-t-' + id);
	this.csvBtn = el('button', 'chart-btn', 'Export CSV');
	this.csvBtn.type = 'button';
	/* The name starts with the visible words (WCAG 2.5.3). */
	this.csvBtn.setAttribute('aria-label', 'Export CSV of ' +
	    opts.title);
	this.jsonBtn = el('button', 'chart-btn', 'Export JSON');
	this.jsonBtn.type = 'button';
	this.jsonBtn.setAttribute('aria-label', 'Export JSON of ' +
	    opts.title);
	tools.appendChild(this.tableBtn);
	tools.appendChild(this.csvBtn);
	tools.appendChild(this.jsonBtn);
	head.appendChild(tools);
	this.root.appendChild(head);

	/* The plot takes the keyboard: arrows pan, Escape resets. */
	this.plotBox = el('div', 'chart-plot');
	this.plotBox.tabIndex = 0;
	this.plotBox.setAttribute('role', 'img');
	this.plotBox.setAttribute('aria-roledescription', 'chart');
	this.plotBox.setAttribute('aria-describedby', 'chart-k-' + id);
	this.root.appendChild(this.plotBox);
	this.keys = el('p', 'chart-keys muted', 'Drag across the plot to ' +
	    'zoom; with the plot focused, \u2190 and \u2192 pan, + and ' +
	    '\u2212 zoom, Escape resets.');
	this.keys.id = 'chart-k-' + id;
	this.root.appendChild(this.keys);
	this.note = el('p', 'chart-note muted', '');
	this.note.setAttribute('role', 'status');
	this.root.appendChild(this.note);
	this.tableBox = el('div', 'chart-table');
	this.tableBox.id = 'chart-t-' + id;
	this.tableBox.hidden = true;
	/* It scrolls: the keyboard must reach it too. */
	this.tableBox.tabIndex = 0;
	this.tableBox.setAttribute('role', 'region');
	this.tableBox.setAttribute('aria-label', opts.title + ' data');
	this.root.appendChild(this.tableBox);

	this.tableBtn.addEventListener('click', function () {
		self.showTable(self.tableBox.hidden);
	});
	this.csvBtn.addEventListener('click', function () {
		self.exportCSV(true);
	});
	this.jsonBtn.addEventListener('click', function () {
		self.exportJSON(true);
	});
	this.plotBox.addEventListener('keydown', function (ev) {
		var k = ev.key;

		if (k === 'ArrowLeft' || k === 'ArrowRight') {
			opts.onPan && opts.onPan(k === 'ArrowLeft' ? -1 : 1);
		} else if (k === '+' || k === '=' || k === '-' ||
		    k === '\u2212') {
			self.zoomBy(k === '+' || k === '=' ? 0.5 : 2);
		} else if (k === 'Escape' || k === 'Home') {
			opts.onReset && opts.onReset();
		} else {
			return;
		}
		ev.preventDefault();
	});
	/*
	 * Resize in the next frame, not in the observer's callback: a
	 * setSize there changes layout the observer watches, and Chromium
	 * reports "ResizeObserver loop completed" as an error.
	 */
	this.fitFrame = 0;
	this.resizer = new ResizeObserver(function () {
		if (self.fitFrame === 0) {
			self.fitFrame = requestAnimationFrame(function () {
				self.fitFrame = 0;
				self.fit();
			});
		}
	});
	this.resizer.observe(this.plotBox);
}

/* Zoom around the middle by FACTOR (0.5 halves the span). */
Chart.prototype.zoomBy = function (factor) {
	var mid = (this.from + this.to) / 2, half;

	if (!isNum(mid) || !this.opts.onZoom)
		return;
	half = Math.max(MIN_SPAN_MS, (this.to - this.from) * factor) / 2;
	this.opts.onZoom(Math.round(mid - half), Math.round(mid + half));
};

Chart.prototype.size = function () {
	var w = Math.max(200, Math.floor(this.plotBox.clientWidth));

	return { width: w, height: w < 500 ? 180 : 240 };
};

Chart.prototype.fit = function () {
	var s;

	if (!this.plot || this.plotBox.clientWidth === 0)
		return;
	s = this.size();
	if (s.width !== this.plot.width || s.height !== this.plot.height)
		this.plot.setSize(s);
};

/* The uPlot options for the series this chart holds. */
Chart.prototype.plotOpts = function (bands) {
	var self = this, unit = this.unit, series = [{}], b = [];
	var colours = [cssVar('--chart-1', '#1f5fbf'),
	    cssVar('--chart-2', '#a34700'), cssVar('--chart-3', '#2e7d32'),
	    cssVar('--chart-4', '#8e24aa')];
	var bandFill = [cssVar('--chart-band-1', 'rgba(31,95,191,0.15)'),
	    cssVar('--chart-band-2', 'rgba(163,71,0,0.15)')];
	var fg = cssVar('--fg', '#1d232a'), grid = cssVar('--line', '#d9dee4');
	var fmt = function (u, v) {
		return fmtUnit(unit, v);
	};

	this.defs.forEach(function (d, i) {
		series.push({ label: d.label, stroke: colours[i % 4],
		    width: 2, spanGaps: false, value: fmt,
		    dash: i % 2 ? [6, 3] : undefined });
	});
	this.defs.forEach(function (d, i) {
		if (!bands[i])
			return;
		series.push({ label: d.label + ' min', stroke: colours[i % 2],
		    width: 1, value: fmt, alpha: 0.5 });
		series.push({ label: d.label + ' max', stroke: colours[i % 2],
		    width: 1, value: fmt, alpha: 0.5 });
		b.push({ series: [series.length - 1, series.length - 2],
		    fill: bandFill[i % 2] });
	});
	return {
		width: this.size().width,
		height: this.size().height,
		series: series,
		bands: b,
		/* The shown range, whatever the data span. */
		scales: { x: { time: true, range: function () {
			return [self.from / 1000, self.to / 1000];
		} } },
		axes: [
			{ stroke: fg, grid: { stroke: grid, width: 1 },
			  ticks: { stroke: grid } },
			{ stroke: fg, grid: { stroke: grid, width: 1 },
			  ticks: { stroke: grid },
			  /* Wide enough for the longest label ("19.1 MiB/s"). */
			  size: function (u, values) {
				var w = 0;

				(values || []).forEach(function (v) {
					w = Math.max(w, String(v).length);
				});
				return Math.max(48, w * 7 + 20);
			  },
			  values: function (u, splits) {
				var inc = splits.length > 1 ?
				    Math.abs(splits[1] - splits[0]) : 1;
				var dp = 0;

				/* The decimals the step between ticks needs. */
				while (dp < 3 && Math.abs(inc * Math.pow(10, dp) -
				    Math.round(inc * Math.pow(10, dp))) > 1e-6)
					dp++;

				return splits.map(function (v) {
					return unit === 'percent' ?
					    v.toFixed(dp) + '\u00a0%' :
					    fmtUnit(unit, v);
				});
			  } }
		],
		cursor: { drag: { x: true, y: false, setScale: false } },
		legend: { show: true },
		hooks: {
			setSelect: [function (u) {
				var a = u.select.left, w = u.select.width;
				var f, t;

				if (w < 2)
					return;
				f = Math.round(u.posToVal(a, 'x') * 1000);
				t = Math.round(u.posToVal(a + w, 'x') * 1000);
				u.setSelect({ left: 0, top: 0, width: 0,
				    height: 0 }, false);
				if (t - f >= MIN_SPAN_MS / 10 &&
				    self.opts.onZoom)
					self.opts.onZoom(f, t);
			}],
			draw: [function () {
				self.root.setAttribute('data-drawn',
				    String((Number(self.root.getAttribute(
				    'data-drawn')) || 0) + 1));
				if (self.onDraw)
					self.onDraw();
			}]
		}
	};
};

/*
 * A new range is being fetched: from, to (ms), step (s), live (its end
 * is now, so live samples extend it).
 */
Chart.prototype.setRange = function (from, to, step, live) {
	this.from = from;
	this.to = to;
	this.step = step;
	this.fetchFrom = from;
	this.fetchTo = to;
	this.live = live;
	this.root.setAttribute('data-loading', 'true');
	this.attrs();
};

/*
 * The daemon's answer for the range of the last setRange(); the series
 * this chart names are taken from it in its order (an absent one stays
 * empty).
 */
Chart.prototype.setAnswer = function (answer) {
	var byName = {}, self = this, stepMs = this.step * 1000, last;

	(answer && Array.isArray(answer.series) ? answer.series : [])
	    .forEach(function (s) {
		byName[s.name] = s;
	});
	this.series = this.defs.map(function (d) {
		var s = byName[d.name];

		return {
			name: d.name,
			unit: s ? s.unit : self.unit,
			step: s ? s.step : self.step,
			points: s && Array.isArray(s.points) ?
			    s.points.slice() : [],
			min: s && Array.isArray(s.min) ? s.min.slice() : null,
			max: s && Array.isArray(s.max) ? s.max.slice() : null
		};
	});
	last = -Infinity;
	this.series.forEach(function (s) {
		if (s.points.length > 0)
			last = Math.max(last, s.points[s.points.length - 1][0]);
	});
	this.lastFetched = isNum(last) ? last : bucketOf(this.fetchTo, stepMs);
	this.acc = null;
	this.root.setAttribute('data-loading', 'false');
	this.render(true);
};

/* The answer could not be had: say why instead of drawing. */
Chart.prototype.setError = function (msg) {
	this.series = [];
	this.root.setAttribute('data-loading', 'false');
	this.render(true);
	this.note.textContent = msg;
};

/*
 * A live sample at T (ms): VALUES maps series name to value. Averaged
 * into the bucket of T when that is after the answer's last one.
 */
Chart.prototype.appendLive = function (t, values) {
	var stepMs = this.step * 1000, b, a, self = this, span;

	if (!this.live || !isNum(t) || !isNum(stepMs) ||
	    this.root.getAttribute('data-loading') !== 'false')
		return false;
	b = bucketOf(t, stepMs);
	if (b <= this.lastFetched || t <= this.to)
		return false;
	a = this.acc;
	if (a === null || a.b !== b) {
		a = this.acc = { b: b, n: [], sum: [], mn: [], mx: [] };
		this.series.forEach(function (s) {
			s.points.push([b, null]);
			if (s.min)
				s.min.push(null);
			if (s.max)
				s.max.push(null);
		});
	}
	this.series.forEach(function (s, i) {
		var v = values[s.name], k = s.points.length - 1;

		if (!isNum(v))
			return;
		a.n[i] = (a.n[i] || 0) + 1;
		a.sum[i] = (a.sum[i] || 0) + v;
		a.mn[i] = a.n[i] === 1 || v < a.mn[i] ? v : a.mn[i];
		a.mx[i] = a.n[i] === 1 || v > a.mx[i] ? v : a.mx[i];
		s.points[k][1] = a.sum[i] / a.n[i];
		if (s.min)
			s.min[k] = a.mn[i];
		if (s.max)
			s.max[k] = a.mx[i];
	});
	span = this.to - this.from;
	this.to = t;
	this.from = t - span;
	/* Forget what slid out of reach of every range but this one. */
	this.series.forEach(function (s) {
		var cut = 0;

		while (cut < s.points.length &&
		    s.points[cut][0] < bucketOf(self.from, stepMs) - span)
			cut++;
		if (cut > 0) {
			s.points.splice(0, cut);
			if (s.min)
				s.min.splice(0, cut);
			if (s.max)
				s.max.splice(0, cut);
		}
	});
	this.render(false);
	return true;
};

/*
 * The rows of the shown range, as columns over the union of the series'
 * times, oldest first: {length, t: [ms], v, mn, mx: [per series: [value,
 * null (a bucket without a value) or undefined (no point)], mn and mx
 * null for a series without min/max], holes: some undefined}.
 */
Chart.prototype.rows = function () {
	var lo = bucketOf(this.from, this.step * 1000), hi = this.to;
	var n = this.series.length, pos = [], end = [], i, t, s, k, a, b;
	var cols = { length: 0, t: [], v: [], mn: [], mx: [], holes: false };
	var same = true, len;

	if (this.rowsCache && this.rowsCache.lo === lo &&
	    this.rowsCache.hi === hi && this.rowsCache.gen === this.gen)
		return this.rowsCache.cols;
	for (i = 0; i < n; i++) {
		cols.v.push([]);
		cols.mn.push([]);
		cols.mx.push([]);
		s = this.series[i].points;
		/* Binary searches for the points in [lo, hi]. */
		for (a = 0, b = s.length; a < b;) {
			k = (a + b) >> 1;
			if (s[k][0] < lo)
				a = k + 1;
			else
				b = k;
		}
		pos.push(a);
		for (b = s.length; a < b;) {
			k = (a + b) >> 1;
			if (s[k][0] <= hi)
				a = k + 1;
			else
				b = k;
		}
		end.push(a);
	}
	/* Most often every series has the same times: no merge. */
	for (i = 1; i < n && same; i++) {
		same = end[i] - pos[i] === end[0] - pos[0];
		for (k = 0; same && k < end[0] - pos[0]; k++)
			same = this.series[i].points[pos[i] + k][0] ===
			    this.series[0].points[pos[0] + k][0];
	}
	if (n > 0 && same) {
		len = end[0] - pos[0];
		s = this.series[0].points;
		cols.t = new Array(len);
		for (k = 0; k < len; k++)
			cols.t[k] = s[pos[0] + k][0];
		for (i = 0; i < n; i++) {
			s = this.series[i];
			cols.v[i] = new Array(len);
			for (k = 0; k < len; k++)
				cols.v[i][k] = s.points[pos[i] + k][1];
			cols.mn[i] = s.min ? s.min.slice(pos[i], end[i]) : null;
			cols.mx[i] = s.max ? s.max.slice(pos[i], end[i]) : null;
		}
	} else {
		cols.holes = true;
		for (i = 0; i < n; i++) {
			if (!this.series[i].min)
				cols.mn[i] = cols.mx[i] = null;
		}
		for (;;) {
			t = Infinity;
			for (i = 0; i < n; i++) {
				s = this.series[i].points;
				if (pos[i] < end[i] && s[pos[i]][0] < t)
					t = s[pos[i]][0];
			}
			if (t === Infinity)
				break;
			cols.t.push(t);
			for (i = 0; i < n; i++) {
				s = this.series[i];
				k = pos[i];
				if (k < end[i] && s.points[k][0] === t) {
					cols.v[i].push(s.points[k][1]);
					if (s.min) {
						cols.mn[i].push(s.min[k]);
						cols.mx[i].push(s.max ? s.max[k] :
						    null);
					}
					pos[i]++;
				} else {
					cols.v[i].push(undefined);
					if (s.min) {
						cols.mn[i].push(undefined);
						cols.mx[i].push(undefined);
					}
				}
			}
		}
	}
	cols.length = cols.t.length;
	this.rowsCache = { lo: lo, hi: hi, gen: this.gen, cols: cols };
	return cols;
};

/* COL with undefined (no point) as null (a gap), for uPlot. */
function gaps(col, holes) {
	var out, i;

	if (!holes)
		return col;
	out = new Array(col.length);

	for (i = 0; i < col.length; i++)
		out[i] = col[i] === undefined ? null : col[i];
	return out;
}

/* Draw (again): the plot, the note, the table when open, attributes. */
Chart.prototype.render = function (rebuild) {
	var rows, n = this.series.length, data, bands = [], i, k, x;

	this.gen = (this.gen || 0) + 1;
	rows = this.rows();
	for (i = 0; i < n; i++) {
		bands.push(false);
		if (rows.mn[i] === null || rows.mx[i] === null)
			continue;
		for (k = 0; k < rows.length && !bands[i]; k++)
			bands[i] = rows.mn[i][k] !== undefined &&
			    rows.mn[i][k] !== rows.mx[i][k];
	}
	x = new Float64Array(rows.length);
	for (k = 0; k < rows.length; k++)
		x[k] = rows.t[k] / 1000;
	data = [x];
	for (i = 0; i < n; i++)
		data.push(gaps(rows.v[i], rows.holes));
	for (i = 0; i < n; i++) {
		if (bands[i]) {
			data.push(gaps(rows.mn[i], rows.holes));
			data.push(gaps(rows.mx[i], rows.holes));
		}
	}
	if (rebuild || !this.plot || this.bandKey !== bands.join()) {
		if (this.plot)
			this.plot.destroy();
		clear(this.plotBox);
		this.bandKey = bands.join();
		this.plot = new uPlot(this.plotOpts(bands), data,
		    this.plotBox);
	} else {
		this.plot.setData(data);
	}
	this.plotBox.setAttribute('aria-label', this.describe(rows));
	this.note.textContent = rows.length === 0 &&
	    this.root.getAttribute('data-loading') === 'false' ?
	    'No data in this range yet.' : '';
	if (!this.tableBox.hidden)
		this.renderTable(rows);
	this.attrs();
	this.root.setAttribute('data-points', String(rows.length));
};

/* A sentence for the plot's label: what it shows, latest and range. */
Chart.prototype.describe = function (rows) {
	var self = this, parts = [];

	if (rows.length === 0)
		return this.opts.title + ': no data in this range';
	this.defs.forEach(function (d, i) {
		var lo = Infinity, hi = -Infinity, last = null, k, v;

		for (k = 0; k < rows.length; k++) {
			v = rows.v[i][k];
			if (isNum(v)) {
				lo = Math.min(lo, v);
				hi = Math.max(hi, v);
				last = v;
			}
		}
		if (last !== null)
			parts.push(d.label + ' from ' + fmtUnit(self.unit, lo) +
			    ' to ' + fmtUnit(self.unit, hi) + ', latest ' +
			    fmtUnit(self.unit, last));
	});
	return this.opts.title + ', ' + fmtWhen(this.from) + ' to ' +
	    fmtWhen(this.to) + ': ' + (parts.join('; ') || 'no values');
};

Chart.prototype.attrs = function () {
	var r = this.root;

	r.setAttribute('data-from', String(this.from));
	r.setAttribute('data-to', String(this.to));
	r.setAttribute('data-step', String(this.step));
	r.setAttribute('data-fetch-from', String(this.fetchFrom));
	r.setAttribute('data-fetch-to', String(this.fetchTo));
	r.setAttribute('data-live', this.live ? 'true' : 'false');
};

Chart.prototype.showTable = function (on) {
	this.tableBox.hidden = !on;
	this.tableBtn.textContent = on ? 'Hide table' : 'Show table';
	this.tableBtn.setAttribute('aria-expanded', on ? 'true' : 'false');
	if (on)
		this.renderTable(this.rows());
	else
		clear(this.tableBox);
};

Chart.prototype.renderTable = function (rows) {
	var t = el('table', 'chart-data'), head = el('tr'), body = el('tbody');
	var thead = el('thead'), self = this, shown, i, tr, th, time, k;

	clear(this.tableBox);
	t.appendChild(el('caption', '', this.opts.title + ', ' +
	    fmtWhen(this.from) + ' to ' + fmtWhen(this.to) + ', ' +
	    rows.length + (rows.length === 1 ? ' point' : ' points') +
	    ' of ' + this.step + ' s'));
	th = el('th', '', 'Time');
	th.scope = 'col';
	head.appendChild(th);
	this.defs.forEach(function (d) {
		var c = el('th', '', d.label);

		c.scope = 'col';
		head.appendChild(c);
	});
	thead.appendChild(head);
	t.appendChild(thead);
	shown = Math.min(rows.length, TABLE_MAX_ROWS);
	for (i = rows.length - shown; i < rows.length; i++) {
		tr = el('tr');
		th = el('th');
		th.scope = 'row';
		time = el('time', '', fmtWhen(rows.t[i]));
		time.dateTime = new Date(rows.t[i]).toISOString();
		th.appendChild(time);
		tr.appendChild(th);
		for (k = 0; k < self.defs.length; k++) {
			var td = el('td', '', fmtUnit(self.unit, rows.v[k][i]));

			if (isNum(rows.v[k][i]))
				td.setAttribute('data-value',
				    String(rows.v[k][i]));
			tr.appendChild(td);
		}
		body.appendChild(tr);
	}
	t.appendChild(body);
	this.tableBox.appendChild(t);
	if (shown < rows.length)
		this.tableBox.appendChild(el('p', 'muted', 'The newest ' +
		    shown + ' of ' + rows.length + ' rows; Export CSV ' +
		    'has them all.'));
};

/* What is shown as the daemon's format=csv would write it. */
Chart.prototype.csv = function () {
	var out = ['timestamp'], rows = this.rows(), i, k, line, v;

	this.series.forEach(function (s) {
		out.push(',' + csvField(s.name));
	});
	out.push('\r\n');
	for (i = 0; i < rows.length; i++) {
		line = new Date(rows.t[i]).toISOString();
		for (k = 0; k < this.series.length; k++) {
			v = rows.v[k][i];
			line += ',' + (isNum(v) ? fmtG10(v) : '');
		}
		out.push(line + '\r\n');
	}
	return out.join('');
};

/* What is shown in the answer's shape (min/max where it had them). */
Chart.prototype.json = function () {
	var lo = bucketOf(this.from, this.step * 1000), hi = this.to;

	return { from: new Date(this.from).toISOString(),
	    to: new Date(this.to).toISOString(), step: this.step,
	    series: this.series.map(function (s) {
		var o = { name: s.name, unit: s.unit, step: s.step,
		    points: [] }, k;

		if (s.min)
			o.min = [];
		if (s.max)
			o.max = [];
		for (k = 0; k < s.points.length; k++) {
			if (s.points[k][0] < lo || s.points[k][0] > hi)
				continue;
			o.points.push(s.points[k].slice());
			if (s.min)
				o.min.push(s.min[k]);
			if (s.max)
				o.max.push(s.max[k]);
		}
		return o;
	}) };
};

function fileStamp(ms) {
	return new Date(ms).toISOString().replace(/[:.]/g, '-');
}

Chart.prototype.exportCSV = function (save) {
	var text = this.csv();

	this.lastExport = text;
	if (save)
		download('horcrux-' + this.opts.id + '-' +
		    fileStamp(this.from) + '.csv', 'text/csv', text);
	return text;
};

Chart.prototype.exportJSON = function (save) {
	var text = JSON.stringify(this.json(), null, 1) + '\n';

	this.lastExport = text;
	if (save)
		download('horcrux-' + this.opts.id + '-' +
		    fileStamp(this.from) + '.json', 'application/json', text);
	return text;
};

Chart.prototype.destroy = function () {
	this.resizer.disconnect();
	if (this.fitFrame !== 0)
		cancelAnimationFrame(this.fitFrame);
	this.fitFrame = 0;
	if (this.plot)
		this.plot.destroy();
	this.plot = null;
	if (this.root.parentNode)
		this.root.parentNode.removeChild(this.root);
	this.root.hxChart = null;
};

/* ---- the range bar a set of charts shares ---- */

/*
 * new RangeBar(idPrefix, onPick): the buttons 15 min ... 30 d, pan and
 * reset, and a custom range. onPick({range: KEY}) or onPick({from, to})
 * (ms); onPan(dir) and onReset() are set by the owner.
 */
export function RangeBar(prefix, handlers) {
	var self = this, row = el('div', 'range-presets'), form, f, t, lab;
	var nav = el('div', 'range-nav');

	this.h = handlers;
	this.root = el('div', 'range-bar');
	this.root.setAttribute('role', 'group');
	this.root.setAttribute('aria-label', 'Time range');
	this.buttons = {};
	RANGES.forEach(function (r) {
		var b = el('button', 'chart-btn range-btn', r.label);

		b.type = 'button';
		b.setAttribute('data-range', r.key);
		b.setAttribute('aria-pressed', 'false');
		b.setAttribute('aria-label', 'Last ' + r.label);
		b.addEventListener('click', function () {
			handlers.pick({ range: r.key });
		});
		self.buttons[r.key] = b;
		row.appendChild(b);
	});
	this.root.appendChild(row);

	this.back = el('button', 'chart-btn', '\u2190');
	this.back.type = 'button';
	this.back.setAttribute('aria-label', 'Earlier (pan left)');
	this.fwd = el('button', 'chart-btn', '\u2192');
	this.fwd.type = 'button';
	this.fwd.setAttribute('aria-label', 'Later (pan right)');
	this.reset = el('button', 'chart-btn', 'Reset');
	this.reset.type = 'button';
	this.reset.setAttribute('aria-label', 'Reset zoom');
	this.back.addEventListener('click', function () {
		handlers.pan(-1);
	});
	this.fwd.addEventListener('click', function () {
		handlers.pan(1);
	});
	this.reset.addEventListener('click', function () {
		handlers.reset();
	});
	nav.appendChild(this.back);
	nav.appendChild(this.fwd);
	nav.appendChild(this.reset);
	this.state = el('span', 'range-state muted', '');
	this.state.setAttribute('role', 'status');
	nav.appendChild(this.state);
	this.root.appendChild(nav);

	form = el('form', 'range-custom');
	form.setAttribute('aria-label', 'Custom range');
	f = el('input');
	f.type = 'datetime-local';
	f.id = prefix + '-from';
	f.required = true;
	t = el('input');
	t.type = 'datetime-local';
	t.id = prefix + '-to';
	t.required = true;
	lab = el('label', '', 'From');
	lab.htmlFor = f.id;
	form.appendChild(lab);
	form.appendChild(f);
	lab = el('label', '', 'To');
	lab.htmlFor = t.id;
	form.appendChild(lab);
	form.appendChild(t);
	this.apply = el('button', 'chart-btn', 'Apply');
	this.apply.type = 'submit';
	form.appendChild(this.apply);
	this.err = el('span', 'range-error', '');
	this.err.setAttribute('role', 'alert');
	form.appendChild(this.err);
	form.addEventListener('submit', function (ev) {
		var a = new Date(f.value).getTime(), b = new Date(t.value)
		    .getTime();

		ev.preventDefault();
		if (!isNum(a) || !isNum(b) || b <= a) {
			self.err.textContent = 'The start must be before ' +
			    'the end.';
			return;
		}
		self.err.textContent = '';
		handlers.pick({ from: a, to: b });
	});
	this.root.appendChild(form);
	this.fromInput = f;
	this.toInput = t;
}

/* Show range: {range: KEY} or {from, to}, and the step in seconds. */
RangeBar.prototype.show = function (r, from, to, step, live) {
	var k;

	for (k in this.buttons)
		this.buttons[k].setAttribute('aria-pressed',
		    r.range === k ? 'true' : 'false');
	this.fromInput.value = toLocalInput(from);
	this.toInput.value = toLocalInput(to);
	this.state.textContent = fmtWhen(from) + ' \u2013 ' +
	    (live ? 'now (live)' : fmtWhen(to)) + ', ' + step + ' s steps';
	this.fwd.disabled = live;
};
