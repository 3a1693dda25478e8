/*
 * ui.js - what every page of the dashboard shares to show things: the
 * formatters (each maps "not a number" to DASH), the 50/75/90 level
 * bands, element helpers that only ever set textContent, and the Bar
 * (label, value, level word, meter track). No state, no network.
 */

export const DASH = '\u2014';

export function $(id) {
	return document.getElementById(id);
}

/* Remove every child of e. */
export function clear(e) {
	while (e.firstChild)
		e.removeChild(e.firstChild);
	return e;
}

/* ---- formatting: every formatter maps "not a number" to DASH ---- */

export function isNum(v) {
	return typeof v === 'number' && isFinite(v);
}

export function fixed(v, digits) {
	return isNum(v) ? v.toFixed(digits) : DASH;
}

export function fmtPct(v) {
	return isNum(v) ? v.toFixed(1) + '\u00a0%' : DASH;
}

export function fmtBytes(n) {
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

export function fmtRate(n) {
	return isNum(n) ? fmtBytes(n) + '/s' : DASH;
}

/* 25276026880 -> "25 276 026 880 bytes", grouped with thin spaces. */
export function fmtExactBytes(n) {
	if (!isNum(n))
		return DASH;
	return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g,
	    '\u202f') + ' bytes';
}

export function fmtDuration(seconds) {
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

export function fmtAge(ms) {
	if (!isNum(ms))
		return DASH;
	if (ms < 0)
		ms = 0;		/* clocks of browser and host differ */
	if (ms < 10000)
		return (ms / 1000).toFixed(1) + ' s';
	return fmtDuration(ms / 1000);
}

export function pad(n, w) {
	var s = String(n);

	while (s.length < w)
		s = '0' + s;
	return s;
}

export function fmtClock(ms) {
	var t = new Date(ms);

	return pad(t.getHours(), 2) + ':' + pad(t.getMinutes(), 2) + ':' +
	    pad(t.getSeconds(), 2) + '.' + pad(t.getMilliseconds(), 3);
}

export function text(v) {
	return typeof v === 'string' && v !== '' ? v : DASH;
}

/* The threshold bands; the name is also the visible text label. */
export function level(pct) {
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

export function el(tag, cls, content) {
	var e = document.createElement(tag);

	if (cls)
		e.className = cls;
	if (content !== undefined)
		e.textContent = content;
	return e;
}

export function setText(id, v) {
	var e = $(id);

	if (e.textContent !== v)
		e.textContent = v;
}

/* ---- bars: label, value, level word, track, optional detail ---- */

export function Bar(label, compact) {
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
export function syncBars(list, container, n, compact) {
	while (list.length < n) {
		list.push(new Bar('', compact));
		container.appendChild(list[list.length - 1].root);
	}
	while (list.length > n)
		container.removeChild(list.pop().root);
}
