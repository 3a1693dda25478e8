/*
 * admin-common.js - what the administration pages (admin.js,
 * admin-users.js, admin-access.js) share: labelled form controls, tables,
 * an error line that shows the daemon's message verbatim, and a button
 * that asks for a confirmation in place before it acts.
 *
 * Everything is built with createElement and textContent: a user, role,
 * key or path name from the daemon stays text. No window.confirm(): a
 * modal dialog would take the keyboard away from the page and stall the
 * browser tests; the confirmation is two buttons next to the action.
 */

import { api, can, serverSays } from './shell.js';
import { DASH, el } from './ui.js';

var uid = 0;

/* A fresh element id for a label's for= (pages are rebuilt often). */
export function newId(what) {
	uid++;
	return 'adm-' + what + '-' + uid;
}

/* What the account may do on /access (the daemon decides again). */
export function may(priv) {
	return can(priv, '/access');
}

export function button(label, act, fn) {
	var b = el('button', 'adm-btn', label);

	b.type = 'button';
	if (act)
		b.setAttribute('data-act', act);
	b.addEventListener('click', fn);
	return b;
}

/*
 * A labelled control: INPUT with a visible LABEL (and optional HINT
 * read as its description). Returns the wrapper; the control is
 * wrapper.control.
 */
export function field(label, input, hint) {
	var w = el('div', 'adm-field'), l = el('label', null, label), h;

	input.id = newId('f');
	l.htmlFor = input.id;
	w.appendChild(l);
	w.appendChild(input);
	if (hint) {
		h = el('span', 'adm-hint muted', hint);
		h.id = input.id + '-hint';
		input.setAttribute('aria-describedby', h.id);
		w.appendChild(h);
	}
	w.control = input;
	return w;
}

export function input(type, name, value) {
	var i = document.createElement('input');

	i.type = type;
	i.name = name;
	if (value !== undefined && value !== null)
		i.value = value;
	i.autocomplete = 'off';
	i.spellcheck = false;
	return i;
}

export function select(name, options, value) {
	var s = document.createElement('select');

	s.name = name;
	options.forEach(function (o) {
		var opt = el('option', null, o);

		opt.value = o;
		s.appendChild(opt);
	});
	if (value !== undefined)
		s.value = value;
	return s;
}

/*
 * A group of checkboxes under a legend, one per NAME, CHECKED ones
 * ticked; group.values() gives the ticked names in order.
 */
export function checks(legend, name, names, checked) {
	var fs = el('fieldset', 'adm-checks'), boxes = [];

	fs.appendChild(el('legend', null, legend));
	fs.setAttribute('data-field', name);
	names.forEach(function (n) {
		var l = el('label', 'adm-check'), c = input('checkbox', name);

		c.value = n;
		c.checked = checked.indexOf(n) >= 0;
		l.appendChild(c);
		l.appendChild(document.createTextNode(' ' + n));
		fs.appendChild(l);
		boxes.push(c);
	});
	if (names.length === 0)
		fs.appendChild(el('span', 'muted', 'none to choose from'));
	fs.values = function () {
		return boxes.filter(function (c) {
			return c.checked;
		}).map(function (c) {
			return c.value;
		});
	};
	return fs;
}

/* A line for the daemon's answer next to a form; announced. */
export function errorLine() {
	var p = el('p', 'adm-error');

	p.setAttribute('role', 'alert');
	p.setAttribute('data-level', 'error');
	return p;
}

export function say(line, res) {
	line.textContent = res ? serverSays(res) : '';
}

export function ok(line, msg) {
	line.setAttribute('data-level', 'ok');
	line.textContent = msg;
}

/*
 * api() that reports an unreachable server as an answer, so every
 * caller has one path: res.status 0 and a message.
 */
export function call(method, path, body) {
	return api(method, path, body).then(null, function (e) {
		return { status: 0, data: { message: 'cannot reach the ' +
		    'server: ' + e.message }, headers: null };
	});
}

/* A table with a caption and column headings; rows go in t.tbody. */
export function table(caption, heads, cls) {
	var t = el('table', 'adm-table' + (cls ? ' ' + cls : ''));
	var tr = el('tr');

	t.appendChild(el('caption', null, caption));
	heads.forEach(function (h) {
		var th = el('th', null, h);

		th.scope = 'col';
		tr.appendChild(th);
	});
	t.appendChild(el('thead')).appendChild(tr);
	t.tbody = t.appendChild(el('tbody'));
	/* Each cell names its column: a phone shows rows as cards. */
	t.add = function (r) {
		Array.prototype.forEach.call(r.cells, function (c, i) {
			if (r.cells.length > 1 && i < heads.length)
				c.setAttribute('data-label', heads[i]);
		});
		t.tbody.appendChild(r);
		return r;
	};
	return t;
}

/* A row of cells: strings become text, elements are appended. */
export function row(cells) {
	var tr = el('tr');

	cells.forEach(function (c) {
		var td = el('td');

		if (c instanceof Node)
			td.appendChild(c);
		else
			td.textContent = c === null || c === undefined ||
			    c === '' ? DASH : String(c);
		tr.appendChild(td);
	});
	return tr;
}

/*
 * A button that acts only after a second, explicit click: LABEL shows
 * QUESTION with "Confirm" and "Cancel" in its place (focus moves to
 * Cancel, so a stray Enter does no harm). FN(done) runs on Confirm;
 * done() puts the button back.
 */
export function confirmButton(label, act, question, fn) {
	var w = el('span', 'adm-confirm'), b, ask, yes, no;

	function back() {
		ask.hidden = true;
		b.hidden = false;
		b.focus();
	}
	b = button(label, act, function () {
		b.hidden = true;
		ask.hidden = false;
		no.focus();
	});
	ask = el('span', 'adm-ask');
	ask.setAttribute('role', 'group');
	ask.setAttribute('aria-label', question);
	ask.appendChild(el('span', 'adm-question', question));
	yes = button('Confirm', 'confirm', function () {
		yes.disabled = true;
		fn(function () {
			yes.disabled = false;
			if (w.isConnected)
				back();
		});
	});
	yes.classList.add('adm-danger');
	no = button('Cancel', 'cancel', back);
	ask.appendChild(yes);
	ask.appendChild(no);
	ask.hidden = true;
	w.appendChild(b);
	w.appendChild(ask);
	return w;
}

/* An enabled/disabled word with a glyph, never the colour alone. */
export function stateWord(on) {
	var s = el('span', 'adm-state', on ? '\u2714 enabled' :
	    '\u2716 disabled');

	s.setAttribute('data-state', on ? 'enabled' : 'disabled');
	return s;
}

export function when(s) {
	var t = typeof s === 'string' ? Date.parse(s) : NaN;

	if (!isFinite(t))
		return DASH;
	return new Date(t).toLocaleString();
}

export function list(v) {
	return Array.isArray(v) && v.length ? v.join(', ') : DASH;
}

/* A section with a heading of level 3 inside ROOT. */
export function part(root, title, name) {
	var s = el('section', 'adm-part'), h = el('h3', null, title);

	h.id = newId('h');
	s.setAttribute('aria-labelledby', h.id);
	if (name)
		s.setAttribute('data-part', name);
	s.appendChild(h);
	root.appendChild(s);
	return s;
}

/* A form whose submit (Enter or the button) calls FN; no navigation. */
export function form(name, submitLabel, fn) {
	var f = el('form', 'adm-form'), b = el('button', 'adm-btn',
	    submitLabel);

	f.setAttribute('data-form', name);
	f.noValidate = false;
	b.type = 'submit';
	f.addEventListener('submit', function (ev) {
		ev.preventDefault();
		fn();
	});
	f.submitButton = b;
	f.err = errorLine();
	return f;
}

/* Close a form: its submit button and its answer line last. */
export function finish(f) {
	f.appendChild(f.submitButton);
	f.appendChild(f.err);
	return f;
}

/* Why an account sees nothing here, and who can change that. */
export function denied(r, what) {
	var p = el('div', 'adm-denied');

	p.setAttribute('role', 'note');
	p.appendChild(el('p', 'adm-denied-text', 'Your account may not ' +
	    'see ' + what + '.'));
	p.appendChild(el('p', 'muted', 'That needs the SysAudit ' +
	    'privilege on /access (the Auditor and Administrator roles ' +
	    'have it); changes need UserModify or PermissionsModify on ' +
	    '/access. An administrator can grant them.'));
	r.appendChild(p);
}
