/*
 * vms.js - the VM list (#/vms): a sortable, filterable table of every VM
 * the account may see, or a grid of cards with mini bars, kept live by
 * the VM events (DESIGN.md section 3: VmMetrics, VmStatusChanged,
 * ContainerStatusChanged, VmCreated, VmDeleted). The list itself comes
 * from GET /api/vms, which holds only the VMs the caller may see; the
 * daemon filters the events the same way, so the page never decides
 * who sees what.
 *
 * Sort, direction, filter and view live in the URL's query (?sort=cpu&
 * dir=desc&q=web&view=cards), so a reload or a shared link shows the
 * same. Names are text: every cell is set through textContent.
 *
 * It does not show one VM's disks, NICs or actions: that is vm.js.
 */

import {
	api, on, onAccount, onResync, onVmTick, serverSays
} from './shell.js';
import { currentQuery, href, route, setQuery } from './router.js';
import {
	Bar, DASH, clear, el, fmtBytes, fmtPct, fmtRate, isNum
} from './ui.js';

/* A state as a word, a glyph and a colour class (data-state in CSS). */
export var STATES = {
	running: { word: 'running', glyph: '\u25b6' },
	paused: { word: 'paused', glyph: '\u2016' },
	suspended: { word: 'suspended', glyph: '\u2016' },
	stopped: { word: 'stopped', glyph: '\u25a0' },
	shutdown: { word: 'shutting down', glyph: '\u25bc' },
	crashed: { word: 'crashed', glyph: '\u2716' },
	unknown: { word: 'unknown', glyph: '?' }
};

/* The state badge: glyph (hidden from screen readers) and word. */
export function stateBadge(state) {
	var s = STATES[state] ? state : 'unknown';
	var b = el('span', 'vm-state');

	b.appendChild(el('span', 'vm-state-glyph', STATES[s].glyph));
	b.appendChild(el('span', 'vm-state-word', STATES[s].word));
	b.firstChild.setAttribute('aria-hidden', 'true');
	b.setAttribute('data-state', s);
	return b;
}

export function setStateBadge(b, state) {
	var s = STATES[state] ? state : 'unknown';

	if (b.getAttribute('data-state') === s)
		return;
	b.setAttribute('data-state', s);
	b.firstChild.textContent = STATES[s].glyph;
	b.lastChild.textContent = STATES[s].word;
}

/* The fragment of a VM's page. */
export function vmHref(name) {
	return href(['vms', name]);
}

/*
 * The columns: key (in ?sort=), header, the value sorted on, and the
 * text shown. Numbers sort numerically with "no value" last.
 */
function m(v, k) {
	var f = figs[v.id];

	return f && isNum(f[k]) ? f[k] : null;
}

var COLUMNS = [
	{ key: 'name', head: 'Name', num: false,
	    val: function (v) { return v.name; } },
	{ key: 'state', head: 'State', num: false,
	    val: function (v) { return v.state; } },
	{ key: 'cpu', head: 'CPU', num: true,
	    val: function (v) { return m(v, 'cpu_usage'); },
	    show: function (v) { return fmtPct(m(v, 'cpu_usage')); } },
	{ key: 'mem', head: 'Memory', num: true,
	    val: function (v) { return m(v, 'memory_usage'); },
	    show: function (v) { return memText(v); } },
	{ key: 'dr', head: 'Disk read', num: true,
	    val: function (v) { return m(v, 'disk_read_bps'); },
	    show: function (v) { return fmtRate(m(v, 'disk_read_bps')); } },
	{ key: 'dw', head: 'Disk write', num: true,
	    val: function (v) { return m(v, 'disk_write_bps'); },
	    show: function (v) { return fmtRate(m(v, 'disk_write_bps')); } },
	{ key: 'rx', head: 'Net receive', num: true,
	    val: function (v) { return m(v, 'network_rx_bps'); },
	    show: function (v) { return fmtRate(m(v, 'network_rx_bps')); } },
	{ key: 'tx', head: 'Net transmit', num: true,
	    val: function (v) { return m(v, 'network_tx_bps'); },
	    show: function (v) { return fmtRate(m(v, 'network_tx_bps')); } },
	{ key: 'vcpus', head: 'vCPUs', num: true,
	    val: function (v) { return vcpus(v); },
	    show: function (v) {
		return isNum(vcpus(v)) ? String(vcpus(v)) : DASH;
	    } }
];

function vcpus(v) {
	return isNum(m(v, 'vcpus')) ? m(v, 'vcpus') :
	    isNum(v.vcpus) ? v.vcpus : null;
}

function memMax(v) {
	return isNum(m(v, 'memory_max_bytes')) ? m(v, 'memory_max_bytes') :
	    isNum(v.memory_max_bytes) ? v.memory_max_bytes : null;
}

/* "50.0 % of 4.00 GiB" or, stopped, "4.00 GiB max". */
function memText(v) {
	var pct = m(v, 'memory_usage'), max = memMax(v);

	if (isNum(pct))
		return fmtPct(pct) + ' of ' + fmtBytes(max);
	return isNum(max) ? fmtBytes(max) + ' max' : DASH;
}

/* ---- the model: every VM this account may see, by id ---- */

var vms = {};			/* id -> {id, name, uuid, state, vcpus,
				 * memory_max_bytes, container} */
var figs = {};			/* id -> the VM's newest VmMetrics data */
var asked = {};			/* ids that made us read the list again */
var loaded = false;		/* GET /api/vms answered for this account */
var loading = 0;		/* generation of the request in flight */
var generation = 0;
var during = {};		/* id -> state word, or null for gone: what
				 * events said while the request was out */
var active = false;		/* the page is shown */
var built = false;
var dirty = false;		/* a render is queued */
var loadError = '';

function reset() {
	vms = {};
	figs = {};
	asked = {};
	loaded = false;
	loadError = '';
	generation++;
	loading = 0;
}

/* Ask for the list again (a VM came or went, or the account changed). */
function load() {
	var gen = ++generation;

	loading = gen;
	during = {};
	api('GET', '/api/vms').then(function (res) {
		var next = {};

		if (gen !== generation)
			return;
		loading = 0;
		if (res.status !== 200 || !Array.isArray(res.data)) {
			loadError = 'Cannot list the VMs: ' + serverSays(res);
			queue();
			return;
		}
		loadError = '';
		res.data.forEach(function (d) {
			if (!d || typeof d.id !== 'string')
				return;
			next[d.id] = {
				id: d.id,
				name: typeof d.name === 'string' ? d.name :
				    d.id,
				uuid: d.uuid,
				state: typeof d.state === 'string' ?
				    d.state : 'unknown',
				vcpus: d.vcpus,
				memory_max_bytes: d.memory_max_bytes,
				container: d.container === true
			};
		});
		/*
		 * An event that came while the request was out may be newer
		 * than the answer (the two travel apart): it stands.
		 */
		Object.keys(during).forEach(function (id) {
			if (during[id] === null)
				delete next[id];
			else if (next[id])
				next[id].state = during[id];
		});
		during = {};
		vms = next;
		/* A VM not running has no figures, whatever came before. */
		Object.keys(figs).forEach(function (id) {
			if (!next[id] || (next[id].state !== 'running' &&
			    next[id].state !== 'paused'))
				delete figs[id];
		});
		loaded = true;
		queue();
	}, function () {
		if (gen !== generation)
			return;
		loading = 0;
		loadError = 'Cannot list the VMs: the server is unreachable';
		queue();
	});
}

/* A VM tick (a batch, or one VM): the figures, drawn in one frame. */
onVmTick(function (list) {
	var more = false;

	list.forEach(function (d) {
		if (typeof d.vm_id !== 'string')
			return;
		figs[d.vm_id] = d;
		/* Not in the list: it came after the list was read. */
		if (!vms[d.vm_id] && !asked[d.vm_id] && loaded &&
		    loading === 0) {
			asked[d.vm_id] = true;	/* once: no reload per tick */
			more = true;
		}
	});
	if (more)
		load();
	queue();
});

/*
 * The stream missed events: the list (states, VMs come and gone) again,
 * unless it was never read (the page reads it when shown) or a read is
 * on its way (just asked for: the page was shown as it connected).
 */
onResync(function () {
	if (loaded && loading === 0)
		load();
});

function statusChanged(id, d) {
	var state = typeof d.new_status === 'string' ? d.new_status :
	    'unknown';

	if (typeof id !== 'string')
		return;
	if (loading !== 0)
		during[id] = state;
	if (!vms[id])
		return;
	vms[id].state = state;
	/* A stopped VM has no figures: drop the last ones. */
	if (vms[id].state !== 'running' && vms[id].state !== 'paused')
		delete figs[id];
	queue();
}

on('VmStatusChanged', function (d) {
	statusChanged(d && d.vm_id, d);
});

on('ContainerStatusChanged', function (d) {
	statusChanged(d && d.container_id, d);
});

on('VmCreated', function () {
	if (loaded)
		load();
});

on('VmDeleted', function (d) {
	if (d && typeof d.vm_id === 'string' && loading !== 0)
		during[d.vm_id] = null;
	if (d && typeof d.vm_id === 'string' && vms[d.vm_id]) {
		delete vms[d.vm_id];
		delete figs[d.vm_id];
		queue();
	}
});

onAccount(function (me) {
	reset();
	if (me === null) {
		if (built)
			render();
		return;
	}
	if (active)
		load();
});

/* ---- the page ---- */

var root = null;		/* #view-vms */
var filterBox, viewTable, viewCards, countLine, errorLine;
var table, tbody, cards, emptyLine;
var heads = {};			/* column key -> {th, button} */
var rows = {};			/* id -> {tr, cells: {key: td}, badge, link} */
var cardsById = {};		/* id -> {root, badge, cpu, mem, facts} */
var sortKey = 'name', sortDir = 'asc', filter = '', view = 'table';

function readQuery(q) {
	var keys = COLUMNS.map(function (c) { return c.key; });

	sortKey = keys.indexOf(q.sort) >= 0 ? q.sort : 'name';
	sortDir = q.dir === 'desc' ? 'desc' : 'asc';
	filter = typeof q.q === 'string' ? q.q : '';
	view = q.view === 'cards' ? 'cards' : 'table';
}

function build() {
	var head, bar, lab, tr, thead, cap;

	root = document.getElementById('view-vms');
	clear(root);
	head = el('div', 'vms-head');
	head.appendChild(el('h2', null, 'Virtual machines'));
	/* Named by its heading, the page is a region landmark. */
	head.firstChild.id = 'vms-title';
	root.setAttribute('aria-labelledby', 'vms-title');
	countLine = el('p', 'vms-count muted', '');
	countLine.id = 'vms-count';
	countLine.setAttribute('role', 'status');
	head.appendChild(countLine);
	root.appendChild(head);

	bar = el('div', 'vms-tools');
	lab = el('label', null, 'Filter');
	lab.htmlFor = 'vms-filter';
	filterBox = el('input', 'vms-filter');
	filterBox.id = 'vms-filter';
	filterBox.type = 'search';
	filterBox.autocomplete = 'off';
	filterBox.spellcheck = false;
	filterBox.placeholder = 'name or state';
	filterBox.setAttribute('aria-describedby', 'vms-count');
	filterBox.addEventListener('input', function () {
		filter = filterBox.value;
		setQuery({ q: filter === '' ? null : filter });
		render();
	});
	bar.appendChild(lab);
	bar.appendChild(filterBox);

	/* Two toggle buttons: the pressed one is the view shown. */
	var group = el('div', 'vms-view');
	group.setAttribute('role', 'group');
	group.setAttribute('aria-label', 'View');
	viewTable = el('button', 'vms-view-btn', 'Table');
	viewTable.type = 'button';
	viewTable.id = 'vms-view-table';
	viewCards = el('button', 'vms-view-btn', 'Cards');
	viewCards.type = 'button';
	viewCards.id = 'vms-view-cards';
	viewTable.addEventListener('click', function () { setView('table'); });
	viewCards.addEventListener('click', function () { setView('cards'); });
	group.appendChild(viewTable);
	group.appendChild(viewCards);
	bar.appendChild(group);
	root.appendChild(bar);

	errorLine = el('p', 'vms-error', '');
	errorLine.setAttribute('role', 'alert');
	root.appendChild(errorLine);

	table = el('table', 'vms-table');
	table.id = 'vms-table';
	cap = el('caption', 'visually-hidden',
	    'Virtual machines; the column headers sort the table');
	table.appendChild(cap);
	thead = el('thead');
	tr = el('tr');
	COLUMNS.forEach(function (c) {
		var th = el('th'), b = el('button', 'vms-sort');

		th.scope = 'col';
		th.setAttribute('data-col', c.key);
		if (c.num)
			th.className = 'num';
		b.type = 'button';
		b.appendChild(el('span', null, c.head));
		b.appendChild(el('span', 'vms-sort-glyph', ''));
		b.lastChild.setAttribute('aria-hidden', 'true');
		b.addEventListener('click', function () { sortBy(c.key); });
		th.appendChild(b);
		tr.appendChild(th);
		heads[c.key] = { th: th, button: b };
	});
	thead.appendChild(tr);
	table.appendChild(thead);
	tbody = el('tbody');
	table.appendChild(tbody);
	var wrap = el('div', 'vms-table-wrap');
	wrap.appendChild(table);
	root.appendChild(wrap);

	cards = el('div', 'vms-cards');
	cards.id = 'vms-cards';
	root.appendChild(cards);

	emptyLine = el('p', 'vms-empty muted', '');
	root.appendChild(emptyLine);
	built = true;
}

function setView(v) {
	view = v;
	setQuery({ view: v === 'table' ? null : v });
	render();
}

/* A header click: this column ascending, or the other way round. */
function sortBy(key) {
	if (sortKey === key) {
		sortDir = sortDir === 'asc' ? 'desc' : 'asc';
	} else {
		sortKey = key;
		/* Busiest first is what one wants of a figure. */
		sortDir = COLUMNS.filter(function (c) {
			return c.key === key;
		})[0].num ? 'desc' : 'asc';
	}
	setQuery({ sort: sortKey === 'name' ? null : sortKey,
	    dir: sortDir === 'asc' ? null : sortDir });
	render();
}

function compare(col) {
	var sign = sortDir === 'desc' ? -1 : 1;

	return function (a, b) {
		var x = col.val(a), y = col.val(b), r;

		/* No value sorts last either way. */
		if (x === null && y !== null)
			return 1;
		if (y === null && x !== null)
			return -1;
		if (x === null || x === y)
			r = 0;
		else if (col.num)
			r = x < y ? -1 : 1;
		else
			r = String(x).localeCompare(String(y));
		if (r === 0)
			return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
		return r * sign;
	};
}

function matches(v, f) {
	var s = STATES[v.state] ? STATES[v.state].word : v.state;

	return f === '' || v.name.toLowerCase().indexOf(f) >= 0 ||
	    String(v.state).toLowerCase().indexOf(f) >= 0 ||
	    s.indexOf(f) >= 0;
}

function makeRow(v) {
	var r = { tr: el('tr'), cells: {} };

	r.tr.setAttribute('data-vm', v.id);
	COLUMNS.forEach(function (c) {
		var td = el(c.key === 'name' ? 'th' : 'td');

		td.setAttribute('data-col', c.key);
		if (c.num)
			td.className = 'num';
		if (c.key === 'name') {
			td.scope = 'row';
			r.link = el('a', 'vm-link', v.name);
			r.link.href = vmHref(v.name);
			td.appendChild(r.link);
			if (v.container)
				td.appendChild(el('span', 'vm-kind muted',
				    ' container'));
		} else if (c.key === 'state') {
			r.badge = stateBadge(v.state);
			td.appendChild(r.badge);
		}
		r.cells[c.key] = td;
		r.tr.appendChild(td);
	});
	return r;
}

/* Set an attribute only when it changes: 100 rows update each tick. */
function attr(e, name, value) {
	if (e.getAttribute(name) !== value)
		e.setAttribute(name, value);
}

function fillRow(r, v) {
	COLUMNS.forEach(function (c) {
		var t;

		if (!c.show)
			return;
		t = c.show(v);
		if (r.cells[c.key].textContent !== t)
			r.cells[c.key].textContent = t;
		/* The exact figure, for a tooltip-free check by tests. */
		attr(r.cells[c.key], 'data-value',
		    c.val(v) === null ? '' : String(c.val(v)));
	});
	setStateBadge(r.badge, v.state);
	attr(r.tr, 'data-state', v.state);
	/* Which sample the figures are of: a test matches it to REST's. */
	attr(r.tr, 'data-sampled', figs[v.id] &&
	    typeof figs[v.id].timestamp === 'string' ?
	    figs[v.id].timestamp : '');
}

function fact(dl, label) {
	var dd = el('dd', null, DASH);

	dl.appendChild(el('dt', null, label));
	dl.appendChild(dd);
	return dd;
}

function makeCard(v) {
	var c = { root: el('article', 'card vm-card') };
	var h = el('h3', 'vm-card-name'), dl = el('dl', 'facts vm-card-facts');

	c.root.setAttribute('data-vm', v.id);
	c.link = el('a', 'vm-link', v.name);
	c.link.href = vmHref(v.name);
	h.appendChild(c.link);
	c.root.appendChild(h);
	c.badge = stateBadge(v.state);
	c.root.appendChild(c.badge);
	c.cpu = new Bar('CPU', true);
	c.mem = new Bar('Memory', true);
	c.cpu.track.setAttribute('aria-label', 'CPU of ' + v.name);
	c.mem.track.setAttribute('aria-label', 'Memory of ' + v.name);
	c.root.appendChild(c.cpu.root);
	c.root.appendChild(c.mem.root);
	c.facts = {
		mem: fact(dl, 'Memory'),
		disk: fact(dl, 'Disk r / w'),
		net: fact(dl, 'Net rx / tx'),
		vcpus: fact(dl, 'vCPUs')
	};
	c.root.appendChild(dl);
	return c;
}

function put(e, t) {
	if (e.textContent !== t)
		e.textContent = t;
}

function fillCard(c, v) {
	setStateBadge(c.badge, v.state);
	attr(c.root, 'data-state', v.state);
	meter(c.cpu, m(v, 'cpu_usage'));
	meter(c.mem, m(v, 'memory_usage'));
	put(c.facts.mem, isNum(m(v, 'memory_bytes')) ?
	    fmtBytes(m(v, 'memory_bytes')) + ' of ' + fmtBytes(memMax(v)) :
	    fmtBytes(memMax(v)) + ' max');
	put(c.facts.disk, fmtRate(m(v, 'disk_read_bps')) + ' / ' +
	    fmtRate(m(v, 'disk_write_bps')));
	put(c.facts.net, fmtRate(m(v, 'network_rx_bps')) + ' / ' +
	    fmtRate(m(v, 'network_tx_bps')));
	put(c.facts.vcpus, isNum(vcpus(v)) ? String(vcpus(v)) : DASH);
}

/*
 * bar.update(pct, detail), and a meter with no figure (a stopped VM's)
 * still has the aria-valuenow its role requires: 0, while its
 * aria-valuetext (which screen readers read instead) says "no data".
 */
export function meter(bar, pct, detail) {
	bar.update(pct, detail);
	if (!isNum(pct))
		bar.track.setAttribute('aria-valuenow', '0');
}

/* Put the children of parent in the order of list, moving only if not. */
function order(parent, list) {
	var i, at = parent.firstChild;

	for (i = 0; i < list.length; i++) {
		if (at !== list[i])
			parent.insertBefore(list[i], at);
		else
			at = at.nextSibling;
	}
	while (at) {
		var next = at.nextSibling;

		parent.removeChild(at);
		at = next;
	}
}

function queue() {
	if (!active || dirty)
		return;
	dirty = true;
	requestAnimationFrame(function () {
		dirty = false;
		if (active)
			render();
	});
}

function render() {
	var all = Object.keys(vms).map(function (id) { return vms[id]; });
	var col = COLUMNS.filter(function (c) { return c.key === sortKey; })[0];
	var f = filter.trim().toLowerCase(), shown, id, list = [];

	if (!built)
		return;
	shown = all.filter(function (v) { return matches(v, f); });
	shown.sort(compare(col));

	COLUMNS.forEach(function (c) {
		var h = heads[c.key], on = c.key === sortKey;

		if (on)
			h.th.setAttribute('aria-sort', sortDir === 'asc' ?
			    'ascending' : 'descending');
		else
			h.th.removeAttribute('aria-sort');
		put(h.button.lastChild, on ? (sortDir === 'asc' ?
		    ' \u25b2' : ' \u25bc') : '');
	});
	if (filterBox.value !== filter)
		filterBox.value = filter;
	viewTable.setAttribute('aria-pressed', String(view === 'table'));
	viewCards.setAttribute('aria-pressed', String(view === 'cards'));
	table.parentNode.hidden = view !== 'table';
	cards.hidden = view !== 'cards';

	/* Forget the rows and cards of VMs gone. */
	for (id in rows) {
		if (!vms[id]) {
			delete rows[id];
			delete cardsById[id];
		}
	}
	if (view === 'table') {
		shown.forEach(function (v) {
			if (!rows[v.id])
				rows[v.id] = makeRow(v);
			fillRow(rows[v.id], v);
			list.push(rows[v.id].tr);
		});
		order(tbody, list);
	} else {
		shown.forEach(function (v) {
			if (!cardsById[v.id])
				cardsById[v.id] = makeCard(v);
			fillCard(cardsById[v.id], v);
			list.push(cardsById[v.id].root);
		});
		order(cards, list);
	}

	put(errorLine, loadError);
	errorLine.hidden = loadError === '';
	put(countLine, !loaded ? (loadError ? '' : 'Loading\u2026') :
	    shown.length === all.length ? all.length +
	    (all.length === 1 ? ' VM' : ' VMs') :
	    shown.length + ' of ' + all.length + ' VMs match the filter');
	put(emptyLine, !loaded ? '' : all.length === 0 ?
	    'There is no VM you may see.' : shown.length === 0 ?
	    'No VM matches \u201c' + filter.trim() + '\u201d.' : '');
	emptyLine.hidden = emptyLine.textContent === '';
	root.setAttribute('data-loaded', loaded ? 'true' : 'false');
}

route('vms', '/vms', {
	title: 'VMs',
	events: ['VmMetrics', 'VmStatusChanged', 'ContainerStatusChanged',
	    'VmCreated', 'VmDeleted'],
	enter: function (params, query) {
		if (!built)
			build();
		readQuery(query || currentQuery());
		active = true;
		/*
		 * Not shown, the page was not subscribed: what it knows may
		 * be old, so the list is read again (the figures come with
		 * the subscription's snapshot).
		 */
		load();
		render();
	},
	leave: function () {
		active = false;
	}
});

/* The model, for the VM page: what the list knows of a VM, or null. */
export function knownVm(id) {
	return vms[id] || null;
}
