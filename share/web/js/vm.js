/*
 * vm.js - one VM's page (#/vms/NAME): its facts, its disks and NICs with
 * their figures (GET /api/vms/:id), the live CPU, memory and I/O of its
 * VmMetrics events, its state from VmStatusChanged, the power actions
 * (POST /api/vms/:id/ACTION) and its charts (charts.js's mountCharts).
 *
 * An action is shown only when the account holds VmPowerMgmt on the
 * VM's ACL path and the action makes sense in the state the page knows;
 * the daemon decides anyway, and its refusal (a 409 when the VM changed
 * state behind the page's back) is shown word for word. Destructive
 * actions ask first, in a modal <dialog> that Escape cancels.
 *
 * A VM that does not exist and a VM the account may not see look the
 * same: "no such VM" (the daemon answers 404 or 403; telling them apart
 * would say which names exist).
 */

import {
	api, can, on, onAccount, onResync, onVmTick, serverSays, status
} from './shell.js';
import { route } from './router.js';
import {
	Bar, DASH, clear, el, fmtBytes, fmtExactBytes, fmtPct, fmtRate, isNum
} from './ui.js';
import { meter, setStateBadge, stateBadge } from './vms.js';
import { mountCharts } from './charts.js';

/* The actions in the order shown, when each makes sense, and the ask. */
var ACTIONS = [
	{ name: 'start', label: 'Start', when: ['stopped', 'shutdown',
	    'crashed'] },
	{ name: 'resume', label: 'Resume', when: ['paused', 'suspended'] },
	{ name: 'shutdown', label: 'Shut down', when: ['running'],
	    ask: 'Ask the guest of \u201c%s\u201d to shut down?',
	    detail: 'The guest operating system is asked to power off; ' +
	    'it may take a while, or refuse.' },
	{ name: 'reboot', label: 'Reboot', when: ['running'],
	    ask: 'Reboot \u201c%s\u201d?',
	    detail: 'The guest is asked to restart.' },
	{ name: 'suspend', label: 'Suspend', when: ['running'],
	    ask: 'Suspend \u201c%s\u201d?',
	    detail: 'The VM stops running and keeps its memory until ' +
	    'it is resumed.' },
	{ name: 'stop', label: 'Force off', when: ['running', 'paused',
	    'suspended', 'shutdown', 'crashed', 'unknown'],
	    ask: 'Force \u201c%s\u201d off?',
	    detail: 'Like pulling the power plug: unsaved data in the ' +
	    'guest is lost.' }
];

/*
 * The ACL path segment of a VM name, as the daemon writes it
 * (lib/hx-rbac.h, hx_rbac_path_subst): '%', '/', control and C1
 * characters as %XX of their UTF-8 bytes, "." and ".." with %2E.
 */
function aclSegment(name) {
	var out = '', i, ch, cp;

	if (name === '.' || name === '..')
		return name.replace(/\./g, '%2E');
	for (i = 0; i < name.length; i += ch.length) {
		cp = name.codePointAt(i);
		ch = String.fromCodePoint(cp);
		if (cp < 0x20 || cp === 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
		    ch === '%' || ch === '/')
			out += encodeURIComponent(ch).toUpperCase();
		else
			out += ch;
	}
	return out;
}

var view = null;		/* #view-vm */
var name = null;		/* the VM shown, or null */
var doc = null;			/* its GET /api/vms/:id answer */
var state = 'unknown';
var gen = 0;			/* bumps per page shown */
var charts = null;		/* mountCharts' handle */
var ui = null;			/* the elements of the page */
var refetchAt = 0;		/* Date.now() of the last document read */
var refetching = false;
var REFRESH_MS = 2000;		/* disks' and NICs' figures, at most */

/* The URL of the VM's routes: by UUID when the name cannot travel. */
function vmPath() {
	if ((name === '.' || name === '..') && doc && doc.uuid)
		return '/api/vms/' + encodeURIComponent(doc.uuid);
	return '/api/vms/' + encodeURIComponent(name);
}

function fact(dl, label, id) {
	var dd = el('dd', null, DASH);

	dl.appendChild(el('dt', null, label));
	dl.appendChild(dd);
	if (id)
		dd.setAttribute('data-fact', id);
	return dd;
}

function section(parent, title, cls) {
	var s = el('section', 'card ' + cls), h = el('h3', null, title);

	s.appendChild(h);
	parent.appendChild(s);
	return s;
}

/* A table with a caption and these headers; returns its tbody. */
function table(parent, caption, headers) {
	var t = el('table', 'vm-devices'), thead = el('thead');
	var tr = el('tr'), tb = el('tbody'), wrap = el('div', 'vm-table-wrap');

	t.appendChild(el('caption', 'visually-hidden', caption));
	headers.forEach(function (h) {
		var th = el('th', h[1] ? 'num' : null, h[0]);

		th.scope = 'col';
		tr.appendChild(th);
	});
	thead.appendChild(tr);
	t.appendChild(thead);
	t.appendChild(tb);
	wrap.appendChild(t);
	parent.appendChild(wrap);
	return tb;
}

function build(vmName) {
	var head, back, grid, facts, live, dl, s;

	clear(view);
	ui = {};
	head = el('div', 'vm-head');
	back = el('a', 'vm-back', '\u2190 All VMs');
	back.href = '#/vms';
	head.appendChild(back);
	ui.title = el('h2', 'vm-title', vmName);
	ui.title.tabIndex = -1;
	ui.title.id = 'vm-title';
	view.setAttribute('aria-labelledby', 'vm-title');
	head.appendChild(ui.title);
	ui.badge = stateBadge('unknown');
	ui.badge.id = 'vm-state';
	head.appendChild(ui.badge);
	view.appendChild(head);

	ui.missing = el('div', 'vm-missing');
	ui.missing.setAttribute('role', 'alert');
	ui.missing.hidden = true;
	view.appendChild(ui.missing);

	ui.body = el('div', 'vm-body');
	ui.body.hidden = true;
	view.appendChild(ui.body);

	ui.actions = el('div', 'vm-actions');
	ui.actions.setAttribute('role', 'group');
	ui.actions.setAttribute('aria-label', 'Power actions');
	ui.buttons = {};
	ACTIONS.forEach(function (a) {
		var b = el('button', 'vm-action', a.label);

		b.type = 'button';
		b.setAttribute('data-action', a.name);
		if (a.name === 'stop')
			b.className += ' danger';
		b.addEventListener('click', function () { ask(a, b); });
		b.hidden = true;
		ui.buttons[a.name] = b;
		ui.actions.appendChild(b);
	});
	ui.body.appendChild(ui.actions);
	ui.answer = el('p', 'vm-answer', '');
	ui.answer.id = 'vm-answer';
	ui.answer.setAttribute('role', 'alert');
	ui.answer.hidden = true;
	ui.body.appendChild(ui.answer);

	grid = el('div', 'vm-grid');
	ui.body.appendChild(grid);
	facts = section(grid, 'Facts', 'vm-facts');
	dl = el('dl', 'facts');
	ui.f = {
		kind: fact(dl, 'Kind', 'kind'),
		uuid: fact(dl, 'UUID', 'uuid'),
		vcpus: fact(dl, 'vCPUs', 'vcpus'),
		mem: fact(dl, 'Memory', 'memory'),
		memMax: fact(dl, 'Maximum memory', 'memory-max'),
		autostart: fact(dl, 'Starts with the host', 'autostart'),
		persistent: fact(dl, 'Persistent', 'persistent')
	};
	facts.appendChild(dl);

	live = section(grid, 'Now', 'vm-live');
	ui.cpu = new Bar('CPU', false);
	ui.mem = new Bar('Memory', false);
	ui.cpu.root.id = 'vm-cpu';
	ui.mem.root.id = 'vm-mem';
	live.appendChild(ui.cpu.root);
	live.appendChild(ui.mem.root);
	dl = el('dl', 'facts rates');
	ui.r = {
		dr: fact(dl, 'Disk read', 'disk-read'),
		dw: fact(dl, 'Disk write', 'disk-write'),
		rx: fact(dl, 'Network receive', 'net-rx'),
		tx: fact(dl, 'Network transmit', 'net-tx')
	};
	live.appendChild(dl);
	ui.sampled = el('p', 'muted vm-sampled', '');
	live.appendChild(ui.sampled);

	s = section(ui.body, 'Disks', 'vm-disks');
	ui.disks = table(s, 'Disks of the VM', [['Device', false],
	    ['Source', false], ['Bus', false], ['Kind', false],
	    ['Read', true], ['Write', true], ['Read in all', true],
	    ['Written in all', true]]);
	s = section(ui.body, 'Network interfaces', 'vm-nics');
	ui.nics = table(s, 'Network interfaces of the VM', [
	    ['Interface', false], ['MAC', false], ['Model', false],
	    ['Network', false], ['Receive', true], ['Transmit', true],
	    ['Received in all', true], ['Sent in all', true]]);

	s = section(ui.body, 'Charts', 'vm-charts-card');
	ui.charts = el('div', 'vm-charts');
	s.appendChild(ui.charts);

	ui.dialog = buildDialog();
	view.appendChild(ui.dialog.root);
}

/* ---- the confirmation dialog ---- */

function buildDialog() {
	var d = { root: el('dialog', 'vm-dialog') };
	var form = el('form'), row = el('div', 'vm-dialog-buttons');

	d.root.id = 'vm-dialog';
	d.root.setAttribute('aria-labelledby', 'vm-dialog-title');
	d.root.setAttribute('aria-describedby', 'vm-dialog-detail');
	form.method = 'dialog';
	d.title = el('h3', null, '');
	d.title.id = 'vm-dialog-title';
	d.detail = el('p', null, '');
	d.detail.id = 'vm-dialog-detail';
	d.cancel = el('button', 'vm-dialog-cancel', 'Cancel');
	d.cancel.value = 'cancel';
	d.ok = el('button', 'vm-dialog-ok danger', '');
	d.ok.value = 'ok';
	form.appendChild(d.title);
	form.appendChild(d.detail);
	row.appendChild(d.cancel);
	row.appendChild(d.ok);
	form.appendChild(row);
	d.root.appendChild(form);
	/* Escape fires cancel, then close with the old returnValue. */
	d.root.addEventListener('cancel', function () {
		d.root.returnValue = 'cancel';
	});
	d.root.addEventListener('close', function () {
		var a = d.action, from = d.from;

		d.action = null;
		d.from = null;
		if (from && document.contains(from) && !from.hidden)
			from.focus();
		else if (ui)
			ui.title.focus();
		if (d.root.returnValue === 'ok' && a)
			act(a);
	});
	return d;
}

function ask(a, from) {
	var d = ui.dialog;

	if (!a.ask) {
		act(a);
		return;
	}
	d.action = a;
	d.from = from;
	d.title.textContent = a.ask.replace('%s', name);
	d.detail.textContent = a.detail;
	d.ok.textContent = a.label;
	d.root.returnValue = '';
	d.root.showModal();
	/* The safe choice has the focus. */
	d.cancel.focus();
}

/* POST the action; the answer is shown as the daemon words it. */
function act(a) {
	var g = gen, b = ui.buttons[a.name];

	b.disabled = true;
	say('', '');
	api('POST', vmPath() + '/' + a.name).then(function (res) {
		if (g !== gen)
			return;
		b.disabled = false;
		if (res.status >= 200 && res.status < 300) {
			say('ok', a.label + ': done.');
			status('info', a.label + ' ' + name + ': done.', true);
			refetch(true);
		} else {
			say('error', serverSays(res));
			status('error', a.label + ' ' + name + ': ' +
			    serverSays(res));
		}
	}, function () {
		if (g !== gen)
			return;
		b.disabled = false;
		say('error', 'The server is unreachable.');
	});
}

function say(lv, msg) {
	ui.answer.textContent = msg;
	ui.answer.setAttribute('data-level', lv);
	ui.answer.hidden = msg === '';
}

/* ---- rendering ---- */

function put(e, t) {
	if (e.textContent !== t)
		e.textContent = t;
}

function yesNo(v) {
	return v === true ? 'yes' : v === false ? 'no' : DASH;
}

function showActions() {
	var allowed = doc !== null &&
	    can('VmPowerMgmt', '/vms/' + aclSegment(name));

	ACTIONS.forEach(function (a) {
		ui.buttons[a.name].hidden = !allowed ||
		    a.when.indexOf(state) < 0;
	});
	ui.actions.hidden = !allowed;
	ui.actions.setAttribute('data-state', state);
}

function setState(s) {
	state = typeof s === 'string' ? s : 'unknown';
	setStateBadge(ui.badge, state);
	showActions();
}

function fillMetrics(d) {
	var memUsed = d && isNum(d.memory_bytes) ? d.memory_bytes : null;

	d = d || {};
	meter(ui.cpu, d.cpu_usage, isNum(d.vcpus) ?
	    'of ' + d.vcpus + (d.vcpus === 1 ? ' vCPU' : ' vCPUs') : '');
	meter(ui.mem, d.memory_usage, memUsed !== null ?
	    'of ' + fmtBytes(memUsed) + ' given to the guest' : '');
	ui.cpu.root.setAttribute('data-value', isNum(d.cpu_usage) ?
	    String(d.cpu_usage) : '');
	ui.mem.root.setAttribute('data-value', isNum(d.memory_usage) ?
	    String(d.memory_usage) : '');
	put(ui.r.dr, fmtRate(d.disk_read_bps));
	put(ui.r.dw, fmtRate(d.disk_write_bps));
	put(ui.r.rx, fmtRate(d.network_rx_bps));
	put(ui.r.tx, fmtRate(d.network_tx_bps));
	put(ui.sampled, typeof d.timestamp === 'string' ?
	    'Sampled at ' + d.timestamp.replace('T', ' ').replace(/\.\d+Z$/,
	    ' UTC') : 'No figures: the VM is not running.');
}

function cells(tr, values) {
	values.forEach(function (v, i) {
		var td = tr.children[i];

		if (!td) {
			td = el(i === 0 ? 'th' : 'td');
			if (i === 0)
				td.scope = 'row';
			if (typeof v[1] === 'boolean' && v[1])
				td.className = 'num';
			tr.appendChild(td);
		}
		put(td, v[0]);
	});
}

function text(v) {
	return typeof v === 'string' && v !== '' ? v : DASH;
}

function fillDevices(tb, list, fn) {
	var i, tr;

	list = Array.isArray(list) ? list : [];
	while (tb.children.length > list.length)
		tb.removeChild(tb.lastChild);
	for (i = 0; i < list.length; i++) {
		tr = tb.children[i];
		if (!tr) {
			tr = el('tr');
			tb.appendChild(tr);
		}
		cells(tr, fn(list[i] || {}));
	}
	if (list.length === 0) {
		tr = el('tr');
		tr.appendChild(el('td', 'muted', 'none'));
		tr.firstChild.colSpan = 8;
		tb.appendChild(tr);
	}
}

function fillDoc(d) {
	var memMax = d.memory_max_bytes;

	put(ui.title, text(d.name));
	put(ui.f.kind, d.container === true ? 'container' : 'virtual machine');
	put(ui.f.uuid, text(d.uuid));
	put(ui.f.vcpus, isNum(d.vcpus) ? String(d.vcpus) : DASH);
	put(ui.f.mem, isNum(d.memory_bytes) ? fmtBytes(d.memory_bytes) : DASH);
	put(ui.f.memMax, isNum(memMax) ? fmtBytes(memMax) + ' (' +
	    fmtExactBytes(memMax) + ')' : DASH);
	put(ui.f.autostart, yesNo(d.autostart));
	put(ui.f.persistent, yesNo(d.persistent));
	fillDevices(ui.disks, d.disks, function (k) {
		return [[text(k.target)], [text(k.source)], [text(k.bus)],
		    [text(k.device)], [fmtRate(k.read_bps), true],
		    [fmtRate(k.write_bps), true],
		    [fmtBytes(k.read_bytes), true],
		    [fmtBytes(k.write_bytes), true]];
	});
	fillDevices(ui.nics, d.nics, function (k) {
		return [[text(k.target)], [text(k.mac)], [text(k.model)],
		    [text(k.source)], [fmtRate(k.rx_bps), true],
		    [fmtRate(k.tx_bps), true],
		    [fmtBytes(k.rx_bytes), true],
		    [fmtBytes(k.tx_bytes), true]];
	});
}

function showMissing(res) {
	clear(ui.missing);
	ui.missing.appendChild(el('p', 'vm-missing-text', 'No such VM: \u201c' +
	    name + '\u201d'));
	/* 403 and 404 read the same: no oracle for which names exist. */
	ui.missing.appendChild(el('p', 'muted', res ?
	    'It does not exist, or your account may not see it.' :
	    'The server is unreachable.'));
	ui.missing.hidden = false;
	ui.body.hidden = true;
	view.setAttribute('data-found', 'false');
}

/* Read the document: first (first true) or again for the figures. */
function fetchDoc(first) {
	var g = gen;

	refetchAt = Date.now();
	refetching = true;
	return api('GET', vmPath()).then(function (res) {
		if (g !== gen)
			return;
		refetching = false;
		if (res.status !== 200 || !res.data ||
		    typeof res.data !== 'object') {
			if (first || res.status === 404 || res.status === 403) {
				doc = null;
				showMissing(res);
			}
			return;
		}
		doc = res.data;
		ui.missing.hidden = true;
		ui.body.hidden = false;
		view.setAttribute('data-found', 'true');
		fillDoc(doc);
		if (first || doc.metrics)
			fillMetrics(doc.metrics);
		setState(doc.state);
	}, function () {
		if (g !== gen)
			return;
		refetching = false;
		if (first)
			showMissing(null);
	});
}

/* Disks' and NICs' figures are in the document only: read it again. */
function refetch(now) {
	if (name === null || doc === null || refetching)
		return;
	if (now || Date.now() - refetchAt >= REFRESH_MS)
		fetchDoc(false);
}

/* "." and "..": the UUID, from the list, addresses them. */
function resolve(g) {
	if (name !== '.' && name !== '..')
		return Promise.resolve();
	return api('GET', '/api/vms').then(function (res) {
		var hit = res.status === 200 && Array.isArray(res.data) ?
		    res.data.filter(function (v) {
			return v && v.name === name;
		})[0] : null;

		if (g === gen && hit)
			doc = { uuid: hit.uuid };
	});
}

function show(vmName) {
	var g = ++gen;

	name = vmName;
	doc = null;
	state = 'unknown';
	build(vmName);
	view.setAttribute('data-vm', vmName);
	view.removeAttribute('data-found');
	fillMetrics(null);
	showActions();
	resolve(g).then(function () {
		if (g !== gen)
			return;
		if ((name === '.' || name === '..') && doc === null)
			showMissing({ status: 404 });
		else
			fetchDoc(true);
	}, function () {
		if (g === gen)
			showMissing(null);
	});
	charts = mountCharts(ui.charts, { scope: 'vm', vm: vmName });
}

function hide() {
	gen++;
	pending = null;
	if (ui && ui.dialog.root.open)
		ui.dialog.root.close('cancel');
	if (charts && typeof charts.destroy === 'function')
		charts.destroy();
	charts = null;
	name = null;
	doc = null;
}

/*
 * A VM tick: this VM's figures, drawn in the next frame (one per tick
 * however many VMs the tick holds or how many ticks come before it).
 */
var pending = null;		/* the newest VmMetrics not yet drawn */

onVmTick(function (list) {
	var i;

	if (name === null || doc === null)
		return;
	for (i = list.length - 1; i >= 0; i--) {
		if (list[i].vm_id === doc.id)
			break;
	}
	if (i < 0)
		return;
	if (pending === null) {
		requestAnimationFrame(function () {
			var d = pending;

			pending = null;	/* hide() drops it too */
			if (d === null || name === null || doc === null ||
			    d.vm_id !== doc.id)
				return;
			fillMetrics(d);
			refetch(false);
		});
	}
	pending = list[i];
});

/* The stream missed events: the state and figures from the document. */
onResync(function () {
	refetch(true);
});

function changed(id, d) {
	if (name === null || doc === null || id !== doc.id)
		return;
	setState(d.new_status);
	if (d.new_status !== 'running' && d.new_status !== 'paused')
		fillMetrics(null);
	refetch(true);
}

on('VmStatusChanged', function (d) {
	changed(d && d.vm_id, d || {});
});

on('ContainerStatusChanged', function (d) {
	changed(d && d.container_id, d || {});
});

on('VmDeleted', function (d) {
	if (name !== null && doc !== null && d && d.vm_id === doc.id) {
		doc = null;
		showMissing({ status: 404 });
	}
});

onAccount(function (me) {
	if (name === null)
		return;
	var n = name;

	hide();
	if (me === null)
		build(n);	/* signed out: nothing of the VM stays */
	else
		show(n);	/* who we are changed: ask again */
});

route('vm', '/vms/:name', {
	title: 'VM',
	events: ['VmMetrics', 'VmStatusChanged', 'ContainerStatusChanged',
	    'VmDeleted'],
	enter: function (params) {
		view = document.getElementById('view-vm');
		show(params[0]);
		document.title = params[0] + ' \u2014 Horcrux';
	},
	leave: hide
});
