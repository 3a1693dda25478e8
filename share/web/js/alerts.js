/*
 * alerts.js - the alerts page (DESIGN.md section 9): #/alerts lists the
 * firing alerts and the recent resolved ones (?state=all|firing|resolved
 * keeps the filter in the URL), live from AlertTriggered and
 * AlertResolved, and acknowledges one with a comment; #/alerts/rules is
 * the rules editor (add, edit, enable or disable, delete after a
 * confirmation, try a rule on the stored history) and #/alerts/targets
 * the notification targets (add a webhook or an e-mail target, send a
 * test, read the recent attempts, delete).
 *
 * What shows follows what the daemon offers this account: a section
 * whose list route answers 403 or 404 is not shown at all, and the
 * controls that change things show only where can() says the account
 * holds the privilege (SysModify on / for rules and targets; SysModify
 * on /nodes or VmPowerMgmt on the VM to acknowledge). The daemon still
 * decides every request; its refusal is shown verbatim.
 *
 * It does not keep anything across sign-outs (onAccount(null) forgets
 * all of it), and it never writes markup: every name (rules, targets,
 * users, VMs) reaches the page through textContent.
 */

import {
	api, can, on, onAccount, onResync, serverSays, SEVERITIES
} from './shell.js';
import { currentQuery, route, setQuery } from './router.js';
import { $, DASH, clear, el, fmtClock, fmtDuration, isNum, text } from './ui.js';

var STATES = ['all', 'firing', 'resolved'];
var RESOLVED_SHOWN = 50;	/* the newest resolved alerts listed */
var SINCES = [['1h', 'last hour'], ['6h', 'last 6 hours'],
    ['24h', 'last 24 hours'], ['7d', 'last 7 days']];

var root = null;		/* #view-alerts, once built */
var ui = {};			/* the page's fixed elements */
var pane = null;		/* 'list', 'rules' or 'targets' while shown */
var me = null;			/* the account, or null */
var gen = 0;			/* bumps on sign-out: late answers dropped */

var alerts = {};		/* alert_id -> alert, as GET /api/alerts */
var rules = null;		/* [rule] or null while unknown */
var targets = null;		/* [target] or null */
var offered = { rules: null, targets: null };	/* true/false/null */
var attemptsOpen = {};		/* target name -> true while shown */
var testResult = {};		/* target name -> text of the last test */
var editing = null;		/* the rule being edited, or {} to add */
var dialogReturn = null;	/* the control that opened a dialog */
var onConfirm = null;		/* what the confirm dialog's OK does */
var ackId = null;		/* the alert the ack dialog is for */

/* ---- small helpers ---- */

function button(label, cls, fn) {
	var b = el('button', cls ? 'al-btn ' + cls : 'al-btn', label);

	b.type = 'button';
	b.addEventListener('click', fn);
	return b;
}

/* A labelled control: returns the row; the control is row.control. */
function field(id, label, control, hint) {
	var row = el('div', 'al-field'), l = el('label', null, label);

	control.id = id;
	l.htmlFor = id;
	row.appendChild(l);
	row.appendChild(control);
	if (hint) {
		var h = el('p', 'al-hint', hint);

		h.id = id + '-hint';
		control.setAttribute('aria-describedby', h.id);
		row.appendChild(h);
	}
	row.control = control;
	return row;
}

function input(type) {
	var i = el('input');

	i.type = type;
	i.autocomplete = 'off';
	i.spellcheck = false;
	return i;
}

function select(options) {
	var s = el('select');

	options.forEach(function (o) {
		var opt = el('option', null, o[1]);

		opt.value = o[0];
		s.appendChild(opt);
	});
	return s;
}

function th(row, label) {
	var c = el('th', null, label);

	c.scope = 'col';
	row.appendChild(c);
}

function td(row, content, cls) {
	var c = el('td', cls || null);

	if (content instanceof Node)
		c.appendChild(content);
	else
		c.textContent = content;
	row.appendChild(c);
	return c;
}

/* A table with a caption and column heads; rows go in its tbody. */
function table(caption, heads) {
	var t = el('table', 'al-table'), h = el('tr');

	t.appendChild(el('caption', 'visually-hidden', caption));
	heads.forEach(function (x) {
		th(h, x);
	});
	t.appendChild(el('thead')).appendChild(h);
	t.body = t.appendChild(el('tbody'));
	t.heads = heads;
	return t;
}

/*
 * Each cell carries its column's name: on a phone the rows become
 * cards and the style sheet shows the name before the value.
 */
function labelCells(t) {
	var rows = t.body.rows, i, j;

	for (i = 0; i < rows.length; i++) {
		for (j = 0; j < rows[i].cells.length; j++) {
			if (rows[i].cells[j].colSpan === 1 && t.heads[j])
				rows[i].cells[j].setAttribute('data-label',
				    t.heads[j]);
		}
	}
	return t;
}

function when(s) {
	var t = Date.parse(s);

	if (!isNum(t))
		return DASH;
	return new Date(t).toLocaleString(undefined, {
		year: 'numeric', month: '2-digit', day: '2-digit',
		hour: '2-digit', minute: '2-digit', second: '2-digit' });
}

function num(v) {
	return isNum(v) ? String(Math.round(v * 100) / 100) : DASH;
}

/* The severity: glyph and word, coloured by data-severity. */
function severity(s) {
	var k = SEVERITIES[s] ? s : 'info';
	var span = el('span', 'al-sev', SEVERITIES[k].glyph + ' ' +
	    SEVERITIES[k].word);

	span.setAttribute('data-severity', k);
	return span;
}

/* A message next to a form or on the page; level info|ok|error. */
function say(node, lv, msg) {
	node.setAttribute('data-level', lv);
	node.textContent = msg;
}

function encodeName(n) {
	return encodeURIComponent(n);
}

/* ---- the page's frame ---- */

function build() {
	var nav, a;

	root = $('view-alerts');
	clear(root);
	root.appendChild(el('h2', 'al-title', 'Alerts'));
	nav = el('nav', 'al-tabs');
	nav.setAttribute('aria-label', 'Alert sections');
	ui.tabs = {};
	[['list', '#/alerts', 'Alerts'], ['rules', '#/alerts/rules', 'Rules'],
	    ['targets', '#/alerts/targets', 'Notification targets']].forEach(
	    function (t) {
		a = el('a', 'al-tab', t[2]);
		a.href = t[1];
		a.setAttribute('data-tab', t[0]);
		nav.appendChild(a);
		ui.tabs[t[0]] = a;
	});
	ui.tabs.rules.hidden = true;
	ui.tabs.targets.hidden = true;
	root.appendChild(nav);
	ui.msg = el('p', 'al-msg');
	ui.msg.setAttribute('role', 'status');
	root.appendChild(ui.msg);
	ui.panes = {
		list: root.appendChild(el('div', 'al-pane')),
		rules: root.appendChild(el('div', 'al-pane')),
		targets: root.appendChild(el('div', 'al-pane'))
	};
	ui.panes.list.id = 'al-pane-list';
	ui.panes.rules.id = 'al-pane-rules';
	ui.panes.targets.id = 'al-pane-targets';
	buildList();
	buildDialogs();
}

function showPane(name) {
	var k;

	pane = name;
	for (k in ui.panes)
		ui.panes[k].hidden = k !== name;
	for (k in ui.tabs) {
		if (k === name)
			ui.tabs[k].setAttribute('aria-current', 'page');
		else
			ui.tabs[k].removeAttribute('aria-current');
	}
	say(ui.msg, 'info', '');
}

/* ---- dialogs: acknowledge, confirm ---- */

function dialog(id, title) {
	var d = el('dialog', 'al-dialog'), h = el('h3', null, title);

	d.id = id;
	h.id = id + '-title';
	d.setAttribute('aria-labelledby', h.id);
	d.appendChild(h);
	d.addEventListener('close', function () {
		if (dialogReturn && document.contains(dialogReturn))
			dialogReturn.focus();
		dialogReturn = null;
	});
	root.appendChild(d);
	return d;
}

function buildDialogs() {
	var f, row, bar;

	ui.ack = dialog('al-ack', 'Acknowledge alert');
	ui.ackWhat = ui.ack.appendChild(el('p', 'al-what'));
	f = ui.ack.appendChild(el('form', 'al-form'));
	f.method = 'dialog';
	ui.ackComment = el('textarea');
	ui.ackComment.rows = 3;
	ui.ackComment.maxLength = 1024;
	row = field('al-ack-comment', 'Comment', ui.ackComment,
	    'Why it is acknowledged; kept with the alert (optional).');
	f.appendChild(row);
	ui.ackError = f.appendChild(el('p', 'al-error'));
	ui.ackError.id = 'al-ack-error';
	ui.ackError.setAttribute('role', 'alert');
	bar = f.appendChild(el('div', 'al-actions'));
	ui.ackOk = el('button', 'al-btn al-primary', 'Acknowledge');
	ui.ackOk.type = 'submit';
	ui.ackOk.id = 'al-ack-ok';
	bar.appendChild(ui.ackOk);
	bar.appendChild(button('Cancel', 'al-cancel', function () {
		ui.ack.close();
	}));
	f.addEventListener('submit', function (ev) {
		ev.preventDefault();
		sendAck();
	});

	ui.confirm = dialog('al-confirm', 'Are you sure?');
	ui.confirmText = ui.confirm.appendChild(el('p', 'al-what'));
	ui.confirmError = ui.confirm.appendChild(el('p', 'al-error'));
	ui.confirmError.setAttribute('role', 'alert');
	bar = ui.confirm.appendChild(el('div', 'al-actions'));
	ui.confirmOk = bar.appendChild(button('Delete', 'al-danger',
	    function () {
		if (onConfirm)
			onConfirm();
	}));
	ui.confirmOk.id = 'al-confirm-ok';
	ui.confirmCancel = bar.appendChild(button('Cancel', 'al-cancel',
	    function () {
		ui.confirm.close();
	}));
	ui.confirmCancel.id = 'al-confirm-cancel';
}

function openDialog(d, from) {
	dialogReturn = from || document.activeElement;
	d.showModal();
}

/*
 * Ask before a destructive step: WHAT is the question, OK's label the
 * verb, FN(done(errorOrNull)) does it.
 */
function confirmThen(from, what, verb, fn) {
	ui.confirmText.textContent = what;
	ui.confirmOk.textContent = verb;
	ui.confirmOk.disabled = false;
	say(ui.confirmError, 'error', '');
	onConfirm = function () {
		ui.confirmOk.disabled = true;
		fn(function (err) {
			ui.confirmOk.disabled = false;
			if (err)
				say(ui.confirmError, 'error', err);
			else
				ui.confirm.close();
		});
	};
	openDialog(ui.confirm, from);
	ui.confirmCancel.focus();
}

/* ---- alerts ---- */

function buildList() {
	var p = ui.panes.list, bar = el('div', 'al-bar'), row;

	ui.state = select([['all', 'Firing and resolved'],
	    ['firing', 'Firing only'], ['resolved', 'Resolved only']]);
	row = field('al-state', 'Show', ui.state);
	row.className = 'al-field al-inline';
	bar.appendChild(row);
	ui.state.addEventListener('change', function () {
		setQuery({ state: ui.state.value === 'all' ? null :
		    ui.state.value });
		loadAlerts();
	});
	p.appendChild(bar);

	ui.firingBox = p.appendChild(el('section', 'al-section'));
	ui.firingHead = ui.firingBox.appendChild(el('h3', null, 'Firing'));
	ui.firingHead.id = 'al-h-firing';
	ui.firingBox.setAttribute('aria-labelledby', 'al-h-firing');
	ui.firing = ui.firingBox.appendChild(el('div', 'al-scroll'));
	ui.firing.setAttribute('aria-live', 'polite');

	ui.resolvedBox = p.appendChild(el('section', 'al-section'));
	ui.resolvedHead = ui.resolvedBox.appendChild(el('h3', null,
	    'Resolved'));
	ui.resolvedHead.id = 'al-h-resolved';
	ui.resolvedBox.setAttribute('aria-labelledby', 'al-h-resolved');
	ui.resolved = ui.resolvedBox.appendChild(el('div', 'al-scroll'));
}

function stateFilter() {
	var s = currentQuery().state;

	return STATES.indexOf(s) >= 0 ? s : 'all';
}

/* May this account acknowledge A (as the daemon decides it)? */
function canAck(a) {
	var t = typeof a.target === 'string' ? a.target : '';

	if (t.indexOf('vm:') === 0)
		return can('VmPowerMgmt', '/vms/' + t.slice(3));
	if (t.indexOf('node:') === 0)
		return can('SysModify', '/nodes/' + t.slice(5));
	return false;
}

function ackedText(a) {
	if (typeof a.acked_by !== 'string' || a.acked_by === '')
		return null;
	return 'by ' + a.acked_by + ', ' + when(a.acked_at) +
	    (typeof a.comment === 'string' && a.comment !== '' ?
	    ': \u201c' + a.comment + '\u201d' : '');
}

function alertRow(a, firing) {
	var tr = el('tr', 'al-alert'), acked = ackedText(a), c;
	var since = Date.parse(a.started_at);

	tr.setAttribute('data-alert-id', a.alert_id);
	tr.setAttribute('data-state', a.state);
	td(tr, severity(a.severity));
	td(tr, text(a.rule_name), 'al-name');
	td(tr, text(a.target));
	td(tr, num(firing ? a.value : isNum(a.peak) ? a.peak : a.value));
	td(tr, num(a.threshold));
	c = el('span', null, when(a.started_at));
	if (firing && isNum(since)) {
		c.appendChild(el('span', 'al-sub al-for', 'for ' +
		    fmtDuration((Date.now() - since) / 1000)));
		c.lastChild.setAttribute('data-since', String(since));
	}
	td(tr, c);
	if (!firing)
		td(tr, when(a.resolved_at));
	c = td(tr, acked === null ? 'not acknowledged' : acked,
	    'al-acked');
	c.setAttribute('data-acked', acked === null ? 'false' : 'true');
	if (firing) {
		c = td(tr, '');
		if (acked === null && canAck(a)) {
			var b = button('Acknowledge', 'al-ack', function () {
				openAck(a.alert_id, b);
			});

			b.setAttribute('aria-label', 'Acknowledge ' +
			    text(a.rule_name) + ' on ' + text(a.target));
			c.appendChild(b);
		}
	}
	return tr;
}

function renderAlerts() {
	var s = stateFilter(), all = [], firing, done, t;

	if (root === null)
		return;
	Object.keys(alerts).forEach(function (id) {
		all.push(alerts[id]);
	});
	all.sort(function (a, b) {
		return String(b.started_at || '').localeCompare(
		    String(a.started_at || ''));
	});
	firing = all.filter(function (a) {
		return a.state === 'firing';
	});
	done = all.filter(function (a) {
		return a.state === 'resolved';
	}).sort(function (a, b) {
		return String(b.resolved_at || '').localeCompare(
		    String(a.resolved_at || ''));
	}).slice(0, RESOLVED_SHOWN);

	ui.state.value = s;
	ui.firingBox.hidden = s === 'resolved';
	ui.resolvedBox.hidden = s === 'firing';
	ui.firingHead.textContent = 'Firing: ' + firing.length;
	ui.resolvedHead.textContent = 'Resolved (the newest ' +
	    RESOLVED_SHOWN + '): ' + done.length;
	clear(ui.firing);
	if (firing.length === 0) {
		ui.firing.appendChild(el('p', 'al-empty',
		    'No alert is firing.'));
	} else {
		t = table('Firing alerts', ['Severity', 'Rule', 'Target',
		    'Value', 'Threshold', 'Since', 'Acknowledged', 'Action']);
		firing.forEach(function (a) {
			t.body.appendChild(alertRow(a, true));
		});
		ui.firing.appendChild(labelCells(t));
	}
	clear(ui.resolved);
	if (done.length === 0) {
		ui.resolved.appendChild(el('p', 'al-empty',
		    'No resolved alert is kept.'));
	} else {
		t = table('Resolved alerts', ['Severity', 'Rule', 'Target',
		    'Peak', 'Threshold', 'Started', 'Resolved',
		    'Acknowledged']);
		done.forEach(function (a) {
			t.body.appendChild(alertRow(a, false));
		});
		ui.resolved.appendChild(labelCells(t));
	}
}

function loadAlerts() {
	var g = gen, s = stateFilter();

	return api('GET', '/api/alerts?state=' + s).then(function (res) {
		var seen = {};

		if (g !== gen)
			return;
		if (res.status !== 200 || !res.data ||
		    !Array.isArray(res.data.alerts)) {
			say(ui.msg, 'error', 'Alerts: ' + serverSays(res));
			return;
		}
		res.data.alerts.forEach(function (a) {
			if (a && typeof a.alert_id === 'string') {
				alerts[a.alert_id] = a;
				seen[a.alert_id] = true;
			}
		});
		/* What the daemon no longer lists in this state is gone. */
		Object.keys(alerts).forEach(function (id) {
			if (!seen[id] && (s === 'all' ||
			    alerts[id].state === s))
				delete alerts[id];
		});
		renderAlerts();
	}, function () {
		if (g === gen)
			say(ui.msg, 'error', 'Alerts: cannot reach the server');
	});
}

function openAck(id, from) {
	var a = alerts[id];

	if (!a)
		return;
	ackId = id;
	ui.ackWhat.textContent = text(a.rule_name) + ' on ' +
	    text(a.target) + ' (' + (SEVERITIES[a.severity] ?
	    SEVERITIES[a.severity].word : 'INFO') + ')';
	ui.ackComment.value = '';
	ui.ackOk.disabled = false;
	say(ui.ackError, 'error', '');
	openDialog(ui.ack, from);
	ui.ackComment.focus();
}

function sendAck() {
	var id = ackId, g = gen;

	if (id === null)
		return;
	ui.ackOk.disabled = true;
	api('POST', '/api/alerts/' + encodeName(id) + '/ack',
	    { comment: ui.ackComment.value }).then(function (res) {
		if (g !== gen)
			return;
		ui.ackOk.disabled = false;
		if (res.status !== 200) {
			say(ui.ackError, 'error', serverSays(res));
			return;
		}
		if (res.data && typeof res.data === 'object' && alerts[id])
			Object.assign(alerts[id], {
			    acked_by: res.data.acked_by,
			    acked_at: res.data.acked_at,
			    comment: res.data.comment });
		ui.ack.close();
		renderAlerts();
		say(ui.msg, 'ok', 'Acknowledged ' + text(alerts[id] ?
		    alerts[id].rule_name : id) + '.');
	}, function () {
		ui.ackOk.disabled = false;
		say(ui.ackError, 'error', 'Cannot reach the server');
	});
}

/* How long each firing alert has fired, moved on in place. */
function tickFor() {
	var f, i, since;

	if (pane !== 'list')
		return;
	f = ui.firing.querySelectorAll('.al-for');
	for (i = 0; i < f.length; i++) {
		since = Number(f[i].getAttribute('data-since'));
		f[i].textContent = 'for ' + fmtDuration((Date.now() - since) /
		    1000);
	}
}

setInterval(tickFor, 5000);

/* Live: the events change the list whether or not it is shown. */
on('AlertTriggered', function (d) {
	var a;

	if (typeof d.alert_id !== 'string' || me === null)
		return;
	a = alerts[d.alert_id] || { alert_id: d.alert_id,
	    started_at: d.started_at || d.timestamp, acked_by: null };
	if (a.state === 'resolved')
		return;		/* an old event after its end */
	Object.assign(a, { state: 'firing', rule_name: d.rule_name,
	    severity: d.severity, target: d.target, value: d.value,
	    threshold: d.threshold, message: d.message });
	alerts[d.alert_id] = a;
	renderAlerts();
});

on('AlertResolved', function (d) {
	var a;

	if (typeof d.alert_id !== 'string' || me === null)
		return;
	a = alerts[d.alert_id] || { alert_id: d.alert_id,
	    rule_name: d.rule_name, target: d.target, acked_by: null };
	a.state = 'resolved';
	a.resolved_at = d.resolved_at || d.timestamp;
	alerts[d.alert_id] = a;
	renderAlerts();
});

/* ---- rules ---- */

function canEdit() {
	return can('SysModify', '/');
}

function condition(r) {
	if (typeof r.status_of === 'string')
		return r.status_of + ' is ' + text(r.equals);
	return text(r.series) + ' ' + text(r.op) + ' ' + num(r.threshold) +
	    (isNum(r.clear_threshold) ? ' (clears past ' +
	    num(r.clear_threshold) + ')' : '');
}

function loadRules() {
	var g = gen;

	return api('GET', '/api/alerts/rules').then(function (res) {
		if (g !== gen)
			return;
		if (res.status === 403 || res.status === 404) {
			offer('rules', false);
			return;
		}
		if (res.status !== 200 || !res.data ||
		    !Array.isArray(res.data.rules)) {
			say(ui.msg, 'error', 'Rules: ' + serverSays(res));
			return;
		}
		rules = res.data.rules.filter(function (r) {
			return r && typeof r.name === 'string';
		});
		offer('rules', true);
	}, function () {});
}

/* The daemon offers (or not) a section to this account. */
function offer(what, yes) {
	offered[what] = yes;
	ui.tabs[what].hidden = !yes;
	if (!yes && what === 'rules')
		rules = null;
	if (!yes && what === 'targets')
		targets = null;
	if (pane === what)
		renderPane();
}

function renderPane() {
	if (pane === 'rules')
		renderRules();
	else if (pane === 'targets')
		renderTargets();
	else if (pane === 'list')
		renderAlerts();
}

/* The section is not for this account: say so, offer nothing. */
function notOffered(p, what) {
	clear(p);
	p.appendChild(el('p', 'al-empty', 'Your account may not see the ' +
	    what + '.'));
}

function renderRules() {
	var p = ui.panes.rules, edit = canEdit(), t, bar;

	if (offered.rules === false) {
		notOffered(p, 'alert rules');
		return;
	}
	if (rules === null)
		return;
	clear(p);
	bar = p.appendChild(el('div', 'al-bar'));
	if (edit) {
		bar.appendChild(button('Add a rule', 'al-primary', function () {
			editing = {};
			renderRules();
			$('al-rule-name').focus();
		})).id = 'al-rule-add';
	} else {
		bar.appendChild(el('p', 'al-hint', 'Read only: changing ' +
		    'rules needs the SysModify privilege on /.'));
	}
	if (edit && editing !== null) {
		/* A list refresh keeps what is being typed. */
		if (ui.ruleFormFor !== editing) {
			ui.ruleFormEl = ruleForm(editing);
			ui.ruleFormFor = editing;
		}
		p.appendChild(ui.ruleFormEl);
	} else {
		ui.ruleFormFor = null;
		ui.ruleFormEl = null;
	}
	ui.backtest = p.appendChild(el('div', 'al-backtest'));
	ui.backtest.setAttribute('aria-live', 'polite');
	t = table('Alert rules', ['Name', 'Condition', 'For', 'Severity',
	    'Notify', 'Enabled', 'Actions']);
	rules.forEach(function (r) {
		t.body.appendChild(ruleRow(r, edit));
	});
	p.appendChild(el('div', 'al-scroll')).appendChild(labelCells(t));
}

function ruleRow(r, edit) {
	var tr = el('tr', 'al-rule'), c, who = ' rule ' + r.name;

	tr.setAttribute('data-rule', r.name);
	td(tr, r.name, 'al-name');
	td(tr, condition(r));
	td(tr, isNum(r.for_seconds) ? fmtDuration(r.for_seconds) : DASH);
	td(tr, severity(r.severity));
	td(tr, Array.isArray(r.notify) && r.notify.length ?
	    r.notify.join(', ') : DASH);
	c = td(tr, r.enabled === false ? '\u25cb disabled' :
	    '\u25cf enabled', 'al-enabled');
	c.setAttribute('data-enabled', r.enabled === false ? 'false' :
	    'true');
	c = td(tr, '', 'al-row-actions');
	if (typeof r.series === 'string' && offered.backtest !== false)
		labelled(c.appendChild(button('Try on history', 'al-try',
		    function (ev) {
			backtest(r.name, ev.target);
		})), 'Try on history:' + who);
	if (!edit)
		return tr;
	labelled(c.appendChild(button('Edit', 'al-edit', function () {
		editing = r;
		renderRules();
		$(typeof r.series === 'string' ? 'al-rule-series' :
		    'al-rule-status-of').focus();
	})), 'Edit' + who);
	labelled(c.appendChild(button(r.enabled === false ? 'Enable' :
	    'Disable', 'al-toggle', function (ev) {
		toggleRule(r, ev.target);
	})), (r.enabled === false ? 'Enable' : 'Disable') + who);
	labelled(c.appendChild(button('Delete', 'al-delete al-danger',
	    function (ev) {
		confirmThen(ev.target, 'Delete the alert rule \u201c' +
		    r.name + '\u201d? Its firing alerts end.', 'Delete rule',
		    function (done) {
			api('DELETE', '/api/alerts/rules/' +
			    encodeName(r.name)).then(function (res) {
				if (res.status !== 204 && res.status !== 200) {
					done(serverSays(res));
					return;
				}
				done(null);
				if (editing === r)
					editing = null;
				say(ui.msg, 'ok', 'Deleted the rule ' +
				    r.name + '.');
				loadRules();
			}, function () {
				done('Cannot reach the server');
			});
		});
	})), 'Delete' + who);
	return tr;
}

function labelled(b, label) {
	b.setAttribute('aria-label', label);
	return b;
}

/* The rule as stored, for PUT (which replaces every field). */
function ruleBody(r) {
	var b = {}, k;

	for (k in r) {
		if (k !== 'name')
			b[k] = r[k];
	}
	return b;
}

function toggleRule(r, from) {
	var b = ruleBody(r);

	b.enabled = r.enabled === false;
	from.disabled = true;
	api('PUT', '/api/alerts/rules/' + encodeName(r.name), b).then(
	    function (res) {
		from.disabled = false;
		if (res.status !== 200) {
			say(ui.msg, 'error', serverSays(res));
			return;
		}
		say(ui.msg, 'ok', (b.enabled ? 'Enabled' : 'Disabled') +
		    ' the rule ' + r.name + '.');
		loadRules().then(function () {
			var again = root.querySelector('tr[data-rule="' +
			    CSS.escape(r.name) + '"] .al-toggle');

			if (again)
				again.focus();
		});
	}, function () {
		from.disabled = false;
		say(ui.msg, 'error', 'Cannot reach the server');
	});
}

/*
 * A number field's value for the daemon: a number when it reads as
 * one, the text as typed otherwise (the daemon says what is wrong),
 * undefined when empty.
 */
function numberOf(v) {
	var s = v.trim();

	if (s === '')
		return undefined;
	return isNum(Number(s)) ? Number(s) : s;
}

function ruleForm(r) {
	var f = el('form', 'al-form al-editor'), isNew = !r.name, rows = {};
	var status = typeof r.status_of === 'string', grid, bar, h;

	f.noValidate = true;
	h = f.appendChild(el('h3', null, isNew ? 'Add a rule' :
	    'Edit the rule ' + r.name));
	h.id = 'al-rule-form-title';
	f.setAttribute('aria-labelledby', h.id);
	grid = f.appendChild(el('div', 'al-grid'));
	rows.name = field('al-rule-name', 'Name', input('text'),
	    'Letters, digits, dot, dash and underscore.');
	rows.name.control.value = r.name || '';
	rows.name.control.readOnly = !isNew;
	rows.kind = field('al-rule-kind', 'Kind', select([
	    ['series', 'A series against a threshold'],
	    ['status', 'A VM status']]));
	rows.kind.control.value = status ? 'status' : 'series';
	rows.series = field('al-rule-series', 'Series', input('text'),
	    'A series or a glob: node:cpu_usage, vm:web-*:memory_usage');
	rows.series.control.value = r.series || '';
	rows.op = field('al-rule-op', 'Operator', select([['>', '>'],
	    ['>=', '\u2265'], ['<', '<'], ['<=', '\u2264']]));
	rows.op.control.value = r.op || '>';
	rows.threshold = field('al-rule-threshold', 'Threshold',
	    input('text'));
	rows.threshold.control.inputMode = 'decimal';
	rows.threshold.control.value = isNum(r.threshold) ?
	    String(r.threshold) : '';
	rows.clear = field('al-rule-clear', 'Clear threshold',
	    input('text'), 'Resolves past this value; empty: the ' +
	    'threshold.');
	rows.clear.control.inputMode = 'decimal';
	rows.clear.control.value = isNum(r.clear_threshold) ?
	    String(r.clear_threshold) : '';
	rows.statusOf = field('al-rule-status-of', 'Status of',
	    input('text'), 'VMs by name or glob: vm:*, vm:web-1');
	rows.statusOf.control.value = status ? r.status_of : 'vm:*';
	rows.equals = field('al-rule-equals', 'Equals', input('text'),
	    'A VM state: crashed, shutoff, paused, running\u2026');
	rows.equals.control.value = status ? text(r.equals) : 'crashed';
	rows.forS = field('al-rule-for', 'For (seconds)', input('text'),
	    'How long the condition holds before the alert fires.');
	rows.forS.control.inputMode = 'numeric';
	rows.forS.control.value = isNum(r.for_seconds) ?
	    String(r.for_seconds) : '0';
	rows.severity = field('al-rule-severity', 'Severity', select([
	    ['info', SEVERITIES.info.glyph + ' info'],
	    ['warning', SEVERITIES.warning.glyph + ' warning'],
	    ['critical', SEVERITIES.critical.glyph + ' critical']]));
	rows.severity.control.value = r.severity || 'warning';
	rows.notify = field('al-rule-notify', 'Notify', input('text'),
	    'Target names, separated by commas' + (targets && targets.length ?
	    ' (' + targets.map(function (t) {
		return t.name;
	    }).join(', ') + ')' : '') + '.');
	rows.notify.control.value = Array.isArray(r.notify) ?
	    r.notify.join(', ') : '';
	rows.silence = field('al-rule-silence', 'Silenced until',
	    input('text'), 'Optional, as 2030-01-31T12:00:00Z.');
	rows.silence.control.value = typeof r.silence_until === 'string' ?
	    r.silence_until : '';
	rows.enabled = el('div', 'al-field al-check');
	ui.ruleEnabled = input('checkbox');
	ui.ruleEnabled.id = 'al-rule-enabled';
	ui.ruleEnabled.checked = r.enabled !== false;
	rows.enabled.appendChild(ui.ruleEnabled);
	rows.enabled.appendChild(el('label', null, 'Enabled')).htmlFor =
	    'al-rule-enabled';
	['name', 'kind', 'series', 'op', 'threshold', 'clear', 'statusOf',
	    'equals', 'forS', 'severity', 'notify', 'silence',
	    'enabled'].forEach(function (k) {
		grid.appendChild(rows[k]);
	});

	function kind() {
		var st = rows.kind.control.value === 'status';

		['series', 'op', 'threshold', 'clear'].forEach(function (k) {
			rows[k].hidden = st;
		});
		rows.statusOf.hidden = !st;
		rows.equals.hidden = !st;
		ui.ruleTry.hidden = st || offered.backtest === false;
	}

	function body() {
		var b = {}, v, n;

		if (isNew)
			b.name = rows.name.control.value.trim();
		if (rows.kind.control.value === 'status') {
			b.status_of = rows.statusOf.control.value.trim();
			b.equals = rows.equals.control.value.trim();
		} else {
			b.series = rows.series.control.value.trim();
			b.op = rows.op.control.value;
			if ((v = numberOf(rows.threshold.control.value)) !==
			    undefined)
				b.threshold = v;
			if ((v = numberOf(rows.clear.control.value)) !==
			    undefined)
				b.clear_threshold = v;
		}
		if ((v = numberOf(rows.forS.control.value)) !== undefined)
			b.for_seconds = v;
		b.severity = rows.severity.control.value;
		b.enabled = ui.ruleEnabled.checked;
		n = rows.notify.control.value.split(',').map(function (s) {
			return s.trim();
		}).filter(function (s) {
			return s !== '';
		});
		b.notify = n;
		v = rows.silence.control.value.trim();
		if (v !== '')
			b.silence_until = v;
		return b;
	}

	ui.ruleError = f.appendChild(el('p', 'al-error'));
	ui.ruleError.id = 'al-rule-error';
	ui.ruleError.setAttribute('role', 'alert');
	bar = f.appendChild(el('div', 'al-actions'));
	ui.ruleSave = el('button', 'al-btn al-primary', isNew ? 'Add rule' :
	    'Save rule');
	ui.ruleSave.type = 'submit';
	ui.ruleSave.id = 'al-rule-save';
	bar.appendChild(ui.ruleSave);
	ui.ruleTry = bar.appendChild(button('Try on history', 'al-try',
	    function (ev) {
		backtest(body(), ev.target);
	}));
	ui.ruleTry.id = 'al-rule-try';
	bar.appendChild(button('Cancel', 'al-cancel', function () {
		editing = null;
		renderRules();
		if ($('al-rule-add'))
			$('al-rule-add').focus();
	}));
	rows.kind.control.addEventListener('change', kind);
	kind();
	f.addEventListener('submit', function (ev) {
		var b = body(), name = isNew ? b.name : r.name;

		ev.preventDefault();
		ui.ruleSave.disabled = true;
		say(ui.ruleError, 'error', '');
		api(isNew ? 'POST' : 'PUT', isNew ? '/api/alerts/rules' :
		    '/api/alerts/rules/' + encodeName(name), b).then(
		    function (res) {
			ui.ruleSave.disabled = false;
			if (res.status !== 200 && res.status !== 201) {
				say(ui.ruleError, 'error', serverSays(res));
				markField(f, res.data);
				return;
			}
			editing = null;
			say(ui.msg, 'ok', (isNew ? 'Added' : 'Saved') +
			    ' the rule ' + name + '.');
			loadRules();
		}, function () {
			ui.ruleSave.disabled = false;
			say(ui.ruleError, 'error', 'Cannot reach the server');
		});
	});
	return f;
}

/* The field a 422 names is marked invalid and described by the error. */
function markField(f, d) {
	var ids = { name: 'al-rule-name', series: 'al-rule-series',
	    op: 'al-rule-op', threshold: 'al-rule-threshold',
	    clear_threshold: 'al-rule-clear', status_of: 'al-rule-status-of',
	    equals: 'al-rule-equals', for_seconds: 'al-rule-for',
	    severity: 'al-rule-severity', notify: 'al-rule-notify',
	    silence_until: 'al-rule-silence', url: 'al-target-url',
	    secret: 'al-target-secret', smtp_url: 'al-target-smtp',
	    from: 'al-target-from', to: 'al-target-to',
	    username: 'al-target-user', password: 'al-target-password',
	    type: 'al-target-type' };
	var bad = f.querySelectorAll('[aria-invalid]'), i, c;

	for (i = 0; i < bad.length; i++)
		bad[i].removeAttribute('aria-invalid');
	if (!d || typeof d.field !== 'string' || !ids[d.field])
		return;
	if (d.field === 'name')
		c = f.querySelector('#al-rule-name, #al-target-name');
	else
		c = f.querySelector('#' + ids[d.field]);
	if (c) {
		c.setAttribute('aria-invalid', 'true');
		c.focus();
	}
}

/* Try RULE (a name or a rule's fields) on the stored history. */
function backtest(rule, from) {
	var out = ui.backtest, since = ui.since ? ui.since.value : '24h';

	clear(out);
	out.appendChild(el('p', 'al-hint', 'Trying on the history\u2026'));
	from.disabled = true;
	api('POST', '/api/alerts/backtest', { rule: rule, since: since })
	    .then(function (res) {
		from.disabled = false;
		clear(out);
		if (res.status === 404 && typeof rule !== 'string' ||
		    res.status === 403) {
			offered.backtest = false;
			renderRules();
			return;
		}
		if (res.status !== 200 || !res.data ||
		    !Array.isArray(res.data.episodes)) {
			out.appendChild(el('p', 'al-error', 'Try on history: ' +
			    serverSays(res)));
			return;
		}
		showBacktest(out, rule, res.data);
	}, function () {
		from.disabled = false;
		clear(out);
		out.appendChild(el('p', 'al-error', 'Cannot reach the server'));
	});
}

function showBacktest(out, rule, d) {
	var eps = d.episodes, t, name;

	name = typeof rule === 'string' ? 'The rule ' + rule :
	    'This rule';
	out.appendChild(el('h3', null, 'Tried on history'));
	out.appendChild(el('p', 'al-backtest-sum', name + ' would have ' +
	    'fired ' + eps.length + (eps.length === 1 ? ' time' : ' times') +
	    ' from ' + when(d.from) + ' to ' + when(d.to) + ' (' +
	    text(d.tier) + ' samples).'));
	if (eps.length === 0)
		return;
	t = table('Episodes the rule would have fired', ['Target', 'Series',
	    'Start', 'End', 'Peak']);
	eps.slice(0, 100).forEach(function (e) {
		var tr = el('tr');

		td(tr, text(e.target));
		td(tr, text(e.series));
		td(tr, when(e.start));
		td(tr, e.end ? when(e.end) : 'still firing');
		td(tr, num(e.peak));
		t.body.appendChild(tr);
	});
	out.appendChild(el('div', 'al-scroll')).appendChild(labelCells(t));
}

/* ---- notification targets ---- */

function loadTargets() {
	var g = gen;

	return api('GET', '/api/notify/targets').then(function (res) {
		if (g !== gen)
			return;
		if (res.status === 403 || res.status === 404) {
			offer('targets', false);
			return;
		}
		if (res.status !== 200 || !res.data ||
		    !Array.isArray(res.data.targets)) {
			say(ui.msg, 'error', 'Targets: ' + serverSays(res));
			return;
		}
		targets = res.data.targets.filter(function (t) {
			return t && typeof t.name === 'string';
		});
		offer('targets', true);
	}, function () {});
}

function destination(t) {
	if (t.type === 'webhook')
		return text(t.url);
	if (t.type === 'email')
		return (Array.isArray(t.to) ? t.to.join(', ') : DASH) +
		    ' via ' + text(t.smtp_url) + ' from ' + text(t.from);
	return DASH;
}

function renderTargets() {
	var p = ui.panes.targets, edit = canEdit(), t;

	if (offered.targets === false) {
		notOffered(p, 'notification targets');
		return;
	}
	if (targets === null)
		return;
	clear(p);
	if (edit) {
		/* Built once: a list refresh keeps what is being typed. */
		if (!ui.targetFormEl)
			ui.targetFormEl = targetForm();
		p.appendChild(ui.targetFormEl);
	} else {
		p.appendChild(el('p', 'al-hint', 'Read only: changing ' +
		    'targets needs the SysModify privilege on /.'));
	}
	if (targets.length === 0) {
		p.appendChild(el('p', 'al-empty', 'No notification target.'));
		return;
	}
	t = table('Notification targets', ['Name', 'Type', 'Destination',
	    'Created', 'Actions']);
	targets.forEach(function (x) {
		t.body.appendChild(targetRow(x, edit));
		if (attemptsOpen[x.name]) {
			var tr = el('tr', 'al-attempts-row'), c = el('td');

			c.colSpan = 5;
			c.id = 'al-attempts-' + targets.indexOf(x);
			tr.appendChild(c);
			t.body.appendChild(tr);
			loadAttempts(x.name, c);
		}
	});
	p.appendChild(el('div', 'al-scroll')).appendChild(labelCells(t));
}

function targetRow(x, edit) {
	var tr = el('tr', 'al-target'), c, who = ' ' + x.name, b;

	tr.setAttribute('data-target', x.name);
	td(tr, x.name, 'al-name');
	td(tr, text(x.type));
	td(tr, destination(x), 'al-dest');
	td(tr, when(x.created));
	c = td(tr, '', 'al-row-actions');
	if (edit) {
		labelled(c.appendChild(button('Send a test', 'al-test',
		    function (ev) {
			sendTest(x.name, ev.target);
		})), 'Send a test to' + who);
	}
	b = labelled(c.appendChild(button(attemptsOpen[x.name] ?
	    'Hide attempts' : 'Recent attempts', 'al-attempts', function () {
		attemptsOpen[x.name] = !attemptsOpen[x.name];
		renderTargets();
		var again = root.querySelector('tr[data-target="' +
		    CSS.escape(x.name) + '"] .al-attempts');

		if (again)
			again.focus();
	})), (attemptsOpen[x.name] ? 'Hide attempts of' :
	    'Recent attempts of') + who);
	b.setAttribute('aria-expanded', attemptsOpen[x.name] ? 'true' :
	    'false');
	if (edit) {
		labelled(c.appendChild(button('Delete', 'al-delete al-danger',
		    function (ev) {
			confirmThen(ev.target, 'Delete the notification ' +
			    'target \u201c' + x.name + '\u201d? Rules ' +
			    'naming it no longer notify it.',
			    'Delete target', function (done) {
				api('DELETE', '/api/notify/targets/' +
				    encodeName(x.name)).then(function (res) {
					if (res.status !== 204 &&
					    res.status !== 200) {
						done(serverSays(res));
						return;
					}
					done(null);
					delete attemptsOpen[x.name];
					say(ui.msg, 'ok', 'Deleted the ' +
					    'target ' + x.name + '.');
					loadTargets();
				}, function () {
					done('Cannot reach the server');
				});
			});
		})), 'Delete' + who);
	}
	if (testResult[x.name]) {
		c.appendChild(el('p', 'al-test-result',
		    testResult[x.name].msg)).setAttribute('data-level',
		    testResult[x.name].lv);
	}
	return tr;
}

function sendTest(name, from) {
	from.disabled = true;
	say(ui.msg, 'info', 'Sending a test to ' + name + '\u2026');
	api('POST', '/api/notify/targets/' + encodeName(name) + '/test').then(
	    function (res) {
		var d = res.data || {}, msg, lv;

		from.disabled = false;
		if (res.status !== 200) {
			msg = 'Test not sent: ' + serverSays(res);
			lv = 'error';
		} else if (d.ok === true) {
			msg = 'Test delivered' + (isNum(d.status) &&
			    d.status > 0 ? ' (HTTP ' + d.status + ')' : '') +
			    (isNum(d.duration_ms) ? ' in ' + d.duration_ms +
			    ' ms' : '') + '.';
			lv = 'ok';
		} else {
			msg = 'Test failed (' + text(d.outcome) + '): ' +
			    text(d.error);
			lv = 'error';
		}
		testResult[name] = { msg: msg, lv: lv };
		say(ui.msg, lv, name + ': ' + msg);
		renderTargets();
		var again = root.querySelector('tr[data-target="' +
		    CSS.escape(name) + '"] .al-test');

		if (again)
			again.focus();
	}, function () {
		from.disabled = false;
		say(ui.msg, 'error', 'Cannot reach the server');
	});
}

function loadAttempts(name, cell) {
	cell.appendChild(el('p', 'al-hint', 'Loading the attempts\u2026'));
	api('GET', '/api/notify/targets/' + encodeName(name) + '/attempts')
	    .then(function (res) {
		var t, list;

		clear(cell);
		if (res.status !== 200 || !res.data ||
		    !Array.isArray(res.data.attempts)) {
			cell.appendChild(el('p', 'al-error', 'Attempts: ' +
			    serverSays(res)));
			return;
		}
		list = res.data.attempts;
		if (list.length === 0) {
			cell.appendChild(el('p', 'al-empty', 'No attempt yet.'));
			return;
		}
		t = table('Recent attempts of ' + name, ['Time', 'Event',
		    'Attempt', 'Outcome', 'Status', 'Duration', 'Error']);
		list.slice(0, 20).forEach(function (a) {
			var tr = el('tr', 'al-attempt');

			td(tr, when(a.ts));
			td(tr, text(a.event));
			td(tr, isNum(a.attempt) ? String(a.attempt) : DASH);
			td(tr, (a.outcome === 'ok' ? '\u2713 ' : '\u2717 ') +
			    text(a.outcome)).setAttribute('data-outcome',
			    a.outcome === 'ok' ? 'ok' : 'bad');
			td(tr, isNum(a.status) && a.status > 0 ?
			    String(a.status) : DASH);
			td(tr, isNum(a.duration_ms) ? a.duration_ms + ' ms' :
			    DASH);
			td(tr, text(a.error));
			t.body.appendChild(tr);
		});
		cell.appendChild(labelCells(t));
	}, function () {
		clear(cell);
		cell.appendChild(el('p', 'al-error', 'Cannot reach the server'));
	});
}

function targetForm() {
	var f = el('form', 'al-form al-editor'), rows = {}, grid, bar, h;
	var det = el('details', 'al-add');

	f.noValidate = true;
	det.appendChild(el('summary', null, 'Add a notification target'));
	h = f.appendChild(el('h3', 'visually-hidden', 'Add a notification ' +
	    'target'));
	h.id = 'al-target-form-title';
	f.setAttribute('aria-labelledby', h.id);
	grid = f.appendChild(el('div', 'al-grid'));
	rows.type = field('al-target-type', 'Type', select([
	    ['webhook', 'Webhook (signed HTTP POST)'],
	    ['email', 'E-mail (SMTP)']]));
	rows.name = field('al-target-name', 'Name', input('text'),
	    'Letters, digits, dot, dash and underscore.');
	rows.url = field('al-target-url', 'URL', input('url'),
	    'http:// or https://');
	rows.secret = field('al-target-secret', 'Secret', input('password'),
	    'Signs each request (X-Horcrux-Signature); never shown again.');
	rows.secret.control.autocomplete = 'new-password';
	rows.smtp = field('al-target-smtp', 'SMTP URL', input('text'),
	    'smtp://host:587 (STARTTLS) or smtps://host');
	rows.from = field('al-target-from', 'From', input('email'));
	rows.to = field('al-target-to', 'To', input('text'),
	    'Addresses, separated by commas.');
	rows.user = field('al-target-user', 'SMTP user name (optional)',
	    input('text'));
	rows.pass = field('al-target-password', 'SMTP password (optional)',
	    input('password'), 'Never shown again.');
	rows.pass.control.autocomplete = 'new-password';
	['type', 'name', 'url', 'secret', 'smtp', 'from', 'to', 'user',
	    'pass'].forEach(function (k) {
		grid.appendChild(rows[k]);
	});

	function kind() {
		var mail = rows.type.control.value === 'email';

		rows.url.hidden = mail;
		rows.secret.hidden = mail;
		['smtp', 'from', 'to', 'user', 'pass'].forEach(function (k) {
			rows[k].hidden = !mail;
		});
	}
	rows.type.control.addEventListener('change', kind);
	kind();

	ui.targetError = f.appendChild(el('p', 'al-error'));
	ui.targetError.id = 'al-target-error';
	ui.targetError.setAttribute('role', 'alert');
	bar = f.appendChild(el('div', 'al-actions'));
	ui.targetSave = el('button', 'al-btn al-primary', 'Add target');
	ui.targetSave.type = 'submit';
	ui.targetSave.id = 'al-target-save';
	bar.appendChild(ui.targetSave);
	f.addEventListener('submit', function (ev) {
		var b = { name: rows.name.control.value.trim(),
		    type: rows.type.control.value }, v;

		ev.preventDefault();
		if (b.type === 'webhook') {
			b.url = rows.url.control.value.trim();
			b.secret = rows.secret.control.value;
		} else {
			b.smtp_url = rows.smtp.control.value.trim();
			b.from = rows.from.control.value.trim();
			b.to = rows.to.control.value.split(',').map(
			    function (s) {
				return s.trim();
			}).filter(function (s) {
				return s !== '';
			});
			if ((v = rows.user.control.value.trim()) !== '')
				b.username = v;
			if ((v = rows.pass.control.value) !== '')
				b.password = v;
		}
		ui.targetSave.disabled = true;
		say(ui.targetError, 'error', '');
		api('POST', '/api/notify/targets', b).then(function (res) {
			ui.targetSave.disabled = false;
			if (res.status !== 201 && res.status !== 200) {
				say(ui.targetError, 'error', serverSays(res));
				markField(f, res.data);
				return;
			}
			ui.targetFormEl = null;	/* the next one starts empty */
			say(ui.msg, 'ok', 'Added the target ' + b.name + '.');
			loadTargets();
		}, function () {
			ui.targetSave.disabled = false;
			say(ui.targetError, 'error',
			    'Cannot reach the server');
		});
	});
	det.appendChild(f);
	return det;
}

/* ---- the routes ---- */

/* The backtest's span, kept above the rules list. */
function sinceControl() {
	var p = ui.panes.rules, row;

	if (ui.since)
		return;
	ui.since = select(SINCES);
	ui.since.value = '24h';
	row = field('al-since', 'Try on history over the', ui.since);
	row.className = 'al-field al-inline';
	ui.sinceRow = row;
	p.parentNode.insertBefore(row, p);
	row.hidden = true;
}

function enter(name) {
	if (root === null)
		build();
	sinceControl();
	showPane(name);
	ui.sinceRow.hidden = name !== 'rules';
	if (me === null)
		return;		/* onAccount enters again once known */
	if (name === 'list') {
		renderAlerts();
		loadAlerts();
	}
	/* Both probes, always: they decide which tabs show. */
	loadRules();
	loadTargets();
	if (name === 'rules')
		renderRules();
	if (name === 'targets')
		renderTargets();
}

function leave() {
	pane = null;
	editing = null;
	if (ui.ack && ui.ack.open)
		ui.ack.close();
	if (ui.confirm && ui.confirm.open)
		ui.confirm.close();
}

var EVENTS = ['AlertTriggered', 'AlertResolved'];

route('alerts', '/alerts', { title: 'Alerts', enter: function () {
	enter('list');
}, leave: leave, events: EVENTS });
route('alerts', '/alerts/rules', { title: 'Alert rules', enter: function () {
	enter('rules');
}, leave: leave, events: EVENTS });
route('alerts', '/alerts/targets', { title: 'Notification targets',
    enter: function () {
	enter('targets');
}, leave: leave, events: EVENTS });

/* The stream missed events: the list shown, from the daemon again. */
onResync(function () {
	if (me !== null && pane === 'list')
		loadAlerts();
});

onAccount(function (m) {
	var shown = pane;

	me = m;
	if (m !== null) {
		if (shown !== null)
			enter(shown);
		return;
	}
	/* Signed out: forget everything this account saw. */
	gen++;
	alerts = {};
	rules = null;
	targets = null;
	offered = { rules: null, targets: null };
	attemptsOpen = {};
	testResult = {};
	editing = null;
	ui.ruleFormEl = null;
	ui.ruleFormFor = null;
	ui.targetFormEl = null;
	if (root !== null) {
		leave();
		pane = shown;
		clear(ui.panes.rules);
		clear(ui.panes.targets);
		ui.tabs.rules.hidden = true;
		ui.tabs.targets.hidden = true;
		say(ui.msg, 'info', '');
		renderAlerts();
	}
});
