/*
 * admin-access.js - the roles, ACL and audit pages of the administration
 * (admin.js routes them). #/admin/roles lists the built-in and custom
 * roles and, with PermissionsModify on /access, adds, edits and deletes
 * custom ones; the privileges offered are those the daemon names (the
 * union of its roles' privileges: Administrator holds all). #/admin/acl
 * lists the entries and, with PermissionsModify, adds and deletes them.
 * #/admin/audit reads the audit log; its filters live in the URL
 * (?user=&action=&since=&limit=) so a link to a filtered view survives a
 * reload.
 */

import { currentQuery, setQuery } from './router.js';
import { clear, el } from './ui.js';
import {
	button, call, checks, confirmButton, denied, errorLine, field,
	finish, form, input, list, may, ok, row, say, select, table, when
} from './admin-common.js';

function failed(box, what, res) {
	box.appendChild(el('p', 'adm-error', 'Cannot read ' + what + ': ' +
	    (res.data && res.data.message ? res.data.message : 'HTTP ' +
	    res.status)));
}

/* Every privilege the daemon's roles name, in the order it gives. */
function privileges(roles) {
	var out = [];

	roles.forEach(function (r) {
		(r.privileges || []).forEach(function (p) {
			if (out.indexOf(p) < 0)
				out.push(p);
		});
	});
	return out;
}

/* ---- #/admin/roles ---- */

export function rolesPage(r, params, query, ctx) {
	var box = el('div', 'adm-roles'), msg = errorLine();

	msg.setAttribute('data-level', 'ok');
	r.appendChild(msg);
	r.appendChild(box);

	function done(what) {
		ok(msg, what);
		load();
	}

	function load() {
		call('GET', '/api/roles').then(function (res) {
			var privs;

			if (!ctx.live)
				return;
			clear(box);
			if (res.status !== 200 || !Array.isArray(res.data)) {
				failed(box, 'the roles', res);
				return;
			}
			privs = privileges(res.data);
			if (may('PermissionsModify'))
				box.appendChild(roleForm(privs, done));
			box.appendChild(rolesTable(res.data, privs, done));
		});
	}
	load();
}

function roleForm(privs, done) {
	var f = form('role-add', 'Add role', submit);
	var name = field('Role name', input('text', 'name'),
	    'letters, digits, ".", "_" and "-"');
	var pc = checks('Privileges', 'privileges', privs, []);
	var d = el('details', 'adm-add');

	name.control.required = true;
	f.appendChild(name);
	f.appendChild(pc);
	d.appendChild(el('summary', null, 'Add a custom role'));
	d.appendChild(finish(f));

	function submit() {
		var body = { name: name.control.value,
		    privileges: pc.values() };

		call('POST', '/api/roles', body).then(function (res) {
			if (res.status !== 201 && res.status !== 200) {
				say(f.err, res);
				return;
			}
			done('Added role ' + body.name + '.');
		});
	}
	return d;
}

function rolesTable(roles, privs, done) {
	var mod = may('PermissionsModify');
	var t = table('Roles', ['Role', 'Kind', 'Scope', 'Privileges']
	    .concat(mod ? ['Actions'] : []));

	roles.forEach(function (ro) {
		var tr = row([ro.name, ro.builtin ? 'built-in' : 'custom',
		    ro.scope, list(ro.privileges)]), edit, w, err;

		tr.setAttribute('data-role', ro.name);
		t.add(tr);
		if (!mod)
			return;
		w = el('div', 'adm-actions');
		tr.appendChild(el('td')).appendChild(w);
		if (ro.builtin) {
			w.appendChild(el('span', 'muted', 'fixed'));
			return;
		}
		err = errorLine();
		edit = el('tr', 'adm-edit-row');
		edit.hidden = true;
		edit.appendChild(el('td')).colSpan = 5;
		t.tbody.appendChild(edit);
		w.appendChild(button('Edit', 'edit', function () {
			var f = form('role-edit', 'Save', function () {
				call('PUT', '/api/roles/' +
				    encodeURIComponent(ro.name),
				    { privileges: pc.values() }).then(
				    function (res) {
					if (res.status !== 200 &&
					    res.status !== 204) {
						say(f.err, res);
						return;
					}
					done('Changed role ' + ro.name + '.');
				});
			});
			var pc = checks('Privileges of ' + ro.name,
			    'privileges', privs, ro.privileges || []);
			var cell = clear(edit.firstChild);

			f.appendChild(pc);
			finish(f);
			f.appendChild(button('Cancel', 'cancel', function () {
				edit.hidden = true;
			}));
			cell.appendChild(f);
			edit.hidden = false;
			f.querySelector('input').focus();
		}));
		w.appendChild(confirmButton('Delete', 'delete', 'Delete role ' +
		    ro.name + '?', function (back) {
			call('DELETE', '/api/roles/' +
			    encodeURIComponent(ro.name)).then(function (res) {
				if (res.status !== 204 && res.status !== 200) {
					say(err, res);
					back();
					return;
				}
				done('Deleted role ' + ro.name + '.');
			});
		}));
		w.appendChild(err);
	});
	return t;
}

/* ---- #/admin/acl ---- */

export function aclPage(r, params, query, ctx) {
	var box = el('div', 'adm-acl'), msg = errorLine();

	if (!may('SysAudit')) {
		denied(r, 'the access control list');
		return;
	}
	msg.setAttribute('data-level', 'ok');
	r.appendChild(msg);
	r.appendChild(box);

	function done(what) {
		ok(msg, what);
		load();
	}

	function load() {
		var mod = may('PermissionsModify');

		Promise.all([call('GET', '/api/acl'), mod ?
		    call('GET', '/api/users') : null, mod ?
		    call('GET', '/api/roles') : null]).then(function (a) {
			if (!ctx.live)
				return;
			clear(box);
			if (a[0].status !== 200 || !Array.isArray(a[0].data)) {
				failed(box, 'the access control list', a[0]);
				return;
			}
			if (mod)
				box.appendChild(aclForm(a[1], a[2], done));
			box.appendChild(aclTable(a[0].data, mod, done));
		});
	}
	load();
}

function names(res, key) {
	return res && res.status === 200 && Array.isArray(res.data) ?
	    res.data.map(function (x) {
		return x[key];
	}) : [];
}

function aclForm(users, roles, done) {
	var f = form('acl-add', 'Add entry', submit);
	var path = field('Path', input('text', 'path', '/vms/'),
	    '/, /vms/NAME, /nodes/NAME, /storage/NAME or /access');
	var user = field('User', select('user', names(users, 'username')));
	var role = field('Role', select('role', names(roles, 'name')));
	var prop = input('checkbox', 'propagate'), pl = el('label',
	    'adm-check');
	var d = el('details', 'adm-add');

	path.control.required = true;
	prop.checked = true;
	pl.appendChild(prop);
	pl.appendChild(document.createTextNode(' Propagate to the paths ' +
	    'below'));
	[path, user, role, pl].forEach(function (c) {
		f.appendChild(c);
	});
	d.appendChild(el('summary', null, 'Add an entry'));
	d.appendChild(finish(f));

	function submit() {
		var body = { path: path.control.value, user: user.control.value,
		    role: role.control.value, propagate: prop.checked };

		call('PUT', '/api/acl', body).then(function (res) {
			if (res.status !== 200 && res.status !== 201) {
				say(f.err, res);
				return;
			}
			done('Granted ' + body.role + ' on ' + body.path +
			    ' to ' + body.user + '.');
		});
	}
	return d;
}

function aclTable(entries, mod, done) {
	var t = table('Access control list', ['Path', 'User', 'Role',
	    'Propagate'].concat(mod ? ['Actions'] : []));

	entries.forEach(function (e) {
		var tr = row([e.path, e.userid || e.user, e.role,
		    e.propagate ? 'yes' : 'no']), err, w;

		tr.setAttribute('data-path', e.path);
		tr.setAttribute('data-user', e.user);
		tr.setAttribute('data-role', e.role);
		t.add(tr);
		if (!mod)
			return;
		err = errorLine();
		w = el('div', 'adm-actions');
		w.appendChild(confirmButton('Delete', 'delete', 'Delete the ' +
		    'entry ' + e.role + ' on ' + e.path + ' for ' + e.user +
		    '?', function (back) {
			call('DELETE', '/api/acl', { path: e.path,
			    user: e.user, role: e.role }).then(function (res) {
				if (res.status !== 204 && res.status !== 200) {
					say(err, res);
					back();
					return;
				}
				done('Deleted the entry ' + e.role + ' on ' +
				    e.path + ' for ' + e.user + '.');
			});
		}));
		w.appendChild(err);
		tr.appendChild(el('td')).appendChild(w);
	});
	if (entries.length === 0)
		t.add(row(['no entries']));
	return t;
}

/* ---- #/admin/audit ---- */

function pad2(n) {
	return (n < 10 ? '0' : '') + n;
}

/* Epoch ms to a datetime-local value, in the browser's time zone. */
function localInput(ms) {
	var d = new Date(ms);

	if (!isFinite(ms))
		return '';
	return d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' +
	    pad2(d.getDate()) + 'T' + pad2(d.getHours()) + ':' +
	    pad2(d.getMinutes());
}

var FILTERS = ['user', 'action', 'since', 'limit'];

export function auditPage(r, params, query, ctx) {
	var box = el('div', 'adm-audit');
	var f, user, action, since, limit;

	if (!may('SysAudit')) {
		denied(r, 'the audit log');
		return;
	}
	f = form('audit-filter', 'Filter', submit);
	f.setAttribute('role', 'search');
	user = field('User', input('text', 'user', query.user),
	    'user or user@realm');
	action = field('Action', input('text', 'action', query.action),
	    'e.g. user.add, login.fail');
	since = field('Since', input('datetime-local', 'since',
	    localInput(Number(query.since))), 'your local time');
	limit = field('Limit', input('number', 'limit', query.limit),
	    '1 to 1000; 100 if empty');
	limit.control.min = '1';
	limit.control.max = '1000';
	[user, action, since, limit].forEach(function (c) {
		f.appendChild(c);
	});
	r.appendChild(finish(f));
	r.appendChild(box);

	function submit() {
		var t = Date.parse(since.control.value);

		setQuery({
			user: user.control.value || null,
			action: action.control.value || null,
			since: isFinite(t) ? t : null,
			limit: limit.control.value || null
		});
		load();
	}

	function load() {
		var q = currentQuery(), u = new URLSearchParams();

		FILTERS.forEach(function (k) {
			if (q[k])
				u.set(k, q[k]);
		});
		say(f.err, null);
		call('GET', '/api/audit' + (u.toString() ? '?' + u : ''))
		    .then(function (res) {
			var t;

			if (!ctx.live)
				return;
			clear(box);
			if (res.status !== 200 || !Array.isArray(res.data)) {
				say(f.err, res);
				return;
			}
			t = table('Audit records, newest first', ['Time',
			    'Actor', 'Action', 'Target', 'Detail', 'From']);
			res.data.forEach(function (a) {
				var tr = row([when(a.timestamp), a.actor,
				    a.action, a.target, a.detail, a.remote]);

				tr.setAttribute('data-action', a.action);
				tr.setAttribute('data-actor', a.actor);
				t.add(tr);
			});
			if (res.data.length === 0)
				t.add(row(['no records']));
			box.appendChild(t);
		});
	}
	load();
}
