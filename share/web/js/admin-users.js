/*
 * admin-users.js - the users pages of the administration (admin.js
 * routes them): #/admin/users lists the accounts and, with UserModify on
 * /access, adds, modifies, disables, deletes them and resets passwords;
 * #/admin/users/NAME shows one account's roles, ACL entries, effective
 * privileges, live sessions and API keys.
 *
 * An API key's secret comes once, in the answer to its creation: it is
 * put in a read-only field with a Copy button and nowhere else (no
 * storage, no variable that outlives the page); leaving the page empties
 * it. The lists never carry it, so it cannot be shown again.
 */

import { account, status } from './shell.js';
import { clear, el } from './ui.js';
import {
	button, call, checks, confirmButton, denied, errorLine, field,
	finish, form, input, list, may, ok, part, row, say, select,
	stateWord, table, when
} from './admin-common.js';

function enc(s) {
	return encodeURIComponent(s);
}

function userHref(name) {
	return '#/admin/users/' + enc(name);
}

function roleNames(res) {
	return res.status === 200 && Array.isArray(res.data) ?
	    res.data.map(function (r) {
		return r.name;
	}) : [];
}

/* ---- #/admin/users ---- */

export function usersPage(r, params, query, ctx) {
	var box = el('div', 'adm-users'), msg = errorLine();

	if (!may('SysAudit')) {
		denied(r, 'the users of this server');
		return;
	}
	msg.setAttribute('data-level', 'ok');
	r.appendChild(msg);
	r.appendChild(box);

	function load() {
		Promise.all([call('GET', '/api/users'),
		    call('GET', '/api/roles')]).then(function (a) {
			if (!ctx.live)
				return;
			clear(box);
			if (a[0].status !== 200 || !Array.isArray(a[0].data)) {
				box.appendChild(el('p', 'adm-error',
				    'Cannot list the users: ' +
				    (a[0].data && a[0].data.message ?
				    a[0].data.message : 'HTTP ' +
				    a[0].status)));
				return;
			}
			if (may('UserModify'))
				box.appendChild(addForm(roleNames(a[1]), done));
			box.appendChild(usersTable(a[0].data,
			    roleNames(a[1]), done));
		});
	}

	/* After a change: say so, and list again. */
	function done(what) {
		ok(msg, what);
		load();
	}
	load();
}

function addForm(roles, done) {
	var f = form('user-add', 'Add user', submit);
	var name = field('Username', input('text', 'username'),
	    'letters, digits, ".", "_" and "-"');
	var pw = field('Password', input('password', 'password'),
	    '8 characters or more; not needed for pam');
	var email = field('Email (optional)', input('email', 'email'));
	var realm = field('Realm', select('realm', ['local', 'pam'],
	    'local'));
	var en = input('checkbox', 'enabled'), enl = el('label', 'adm-check');
	var rc = checks('Roles', 'roles', roles, []);
	var d = el('details', 'adm-add');

	name.control.required = true;
	pw.control.autocomplete = 'new-password';
	en.checked = true;
	enl.appendChild(en);
	enl.appendChild(document.createTextNode(' Enabled'));
	[name, pw, email, realm, rc, enl].forEach(function (c) {
		f.appendChild(c);
	});
	d.appendChild(el('summary', null, 'Add a user'));
	d.appendChild(finish(f));

	function submit() {
		var body = {
			username: name.control.value,
			realm: realm.control.value,
			roles: rc.values(),
			enabled: en.checked
		};

		if (pw.control.value !== '')
			body.password = pw.control.value;
		if (email.control.value !== '')
			body.email = email.control.value;
		f.submitButton.disabled = true;
		call('POST', '/api/users', body).then(function (res) {
			f.submitButton.disabled = false;
			if (res.status !== 201) {
				say(f.err, res);
				return;
			}
			done('Added user ' + body.username + '.');
		});
	}
	return d;
}

function usersTable(users, roles, done) {
	var mod = may('UserModify');
	/* Only a daemon that records sign-ins gives last_login_at. */
	var seen = users.some(function (u) {
		return u && 'last_login_at' in u;
	});
	var t = table('Users', ['User', 'Realm', 'Email', 'Roles', 'State']
	    .concat(seen ? ['Last login'] : [], ['Created'],
	    mod ? ['Actions'] : []));

	users.forEach(function (u) {
		var a = el('a', null, u.username), tr, edit;

		a.href = userHref(u.username);
		tr = row([a, u.realm, u.email, list(u.roles),
		    stateWord(u.enabled !== false)].concat(seen ?
		    [when(u.last_login_at)] : [], [when(u.created_at)]));
		tr.setAttribute('data-user', u.username);
		t.add(tr);
		if (!mod)
			return;
		edit = el('tr', 'adm-edit-row');
		edit.hidden = true;
		edit.appendChild(el('td')).colSpan = 8;
		t.tbody.appendChild(edit);
		tr.appendChild(el('td')).appendChild(actions(u, roles, edit,
		    done));
	});
	if (users.length === 0)
		t.add(row(['no users yet']));
	return t;
}

/* Edit, reset password, enable/disable, delete: one user's buttons. */
function actions(u, roles, editRow, done) {
	var w = el('div', 'adm-actions'), err = errorLine();
	var who = u.username;

	function open(build) {
		var cell = clear(editRow.firstChild);

		cell.appendChild(build());
		editRow.hidden = false;
		cell.querySelector('input, select, button').focus();
	}

	function patch(body, what, line) {
		call('PATCH', '/api/users/' + enc(who), body).then(
		    function (res) {
			if (res.status !== 200) {
				say(line || err, res);
				return;
			}
			done(what);
		});
	}

	w.appendChild(button('Modify', 'modify', function () {
		open(function () {
			var f = form('user-modify', 'Save', function () {
				patch({ email: email.control.value,
				    roles: rc.values(),
				    enabled: en.checked },
				    'Modified user ' + who + '.', f.err);
			});
			var email = field('Email', input('email', 'email',
			    u.email));
			var rc = checks('Roles of ' + who, 'roles', roles,
			    u.roles || []);
			var en = input('checkbox', 'enabled');
			var l = el('label', 'adm-check');

			en.checked = u.enabled !== false;
			l.appendChild(en);
			l.appendChild(document.createTextNode(' Enabled'));
			f.appendChild(email);
			f.appendChild(rc);
			f.appendChild(l);
			finish(f);
			f.appendChild(button('Cancel', 'cancel', function () {
				editRow.hidden = true;
			}));
			return f;
		});
	}));
	w.appendChild(button('Reset password', 'password', function () {
		open(function () {
			var f = form('user-password', 'Set password',
			    function () {
				call('POST', '/api/users/' + enc(who) +
				    '/password', { password: pw.control.value })
				    .then(function (res) {
					if (res.status !== 204 &&
					    res.status !== 200) {
						say(f.err, res);
						return;
					}
					done('Set a new password for ' + who +
					    '; their sessions ended.');
				});
			});
			var pw = field('New password for ' + who,
			    input('password', 'password'),
			    '8 characters or more');

			pw.control.autocomplete = 'new-password';
			pw.control.required = true;
			f.appendChild(pw);
			finish(f);
			f.appendChild(button('Cancel', 'cancel', function () {
				editRow.hidden = true;
			}));
			return f;
		});
	}));
	if (u.enabled !== false)
		w.appendChild(confirmButton('Disable', 'disable',
		    'Disable ' + who + ' and end their sessions?',
		    function (back) {
			patch({ enabled: false }, 'Disabled user ' + who + '.');
			back();
		}));
	else
		w.appendChild(button('Enable', 'enable', function () {
			patch({ enabled: true }, 'Enabled user ' + who + '.');
		}));
	w.appendChild(confirmButton('Delete', 'delete', 'Delete user ' +
	    who + ' for good?', function (back) {
		call('DELETE', '/api/users/' + enc(who)).then(function (res) {
			if (res.status !== 204 && res.status !== 200) {
				say(err, res);
				back();
				return;
			}
			done('Deleted user ' + who + '.');
		});
	}));
	w.appendChild(err);
	return w;
}

/* ---- #/admin/users/NAME ---- */

export function userPage(r, params, query, ctx) {
	var name = params[0], me = account();
	var self = me !== null && me.auth !== 'local' &&
	    me.username === name;
	var mod = may('UserModify') || self;
	var base = '/api/users/' + enc(name);
	var facts, acl, perms, sess, keys;
	var secret = el('div', 'adm-secret-box');
	var user = null;

	if (!may('SysAudit') && !self) {
		denied(r, 'other users\u2019 accounts');
		return;
	}
	facts = part(r, 'Account', 'account');
	acl = part(r, 'ACL entries', 'acl');
	perms = part(r, 'Effective privileges', 'permissions');
	sess = mod ? part(r, 'Sessions', 'sessions') : null;
	keys = mod ? part(r, 'API keys', 'keys') : null;

	function failed(box, what, res) {
		box.appendChild(el('p', 'adm-error', 'Cannot read ' + what +
		    ': ' + (res.data && res.data.message ? res.data.message :
		    'HTTP ' + res.status)));
	}

	function reset(box) {
		while (box.childNodes.length > 1)
			box.removeChild(box.lastChild);
		return box;
	}

	function loadUser() {
		call('GET', base).then(function (res) {
			var dl = el('dl', 'adm-facts'), t;

			if (!ctx.live)
				return;
			reset(facts);
			reset(acl);
			if (res.status !== 200 || !res.data) {
				failed(facts, 'the account', res);
				return;
			}
			user = res.data;
			[['User', user.username + '@' + user.realm],
			    ['Email', user.email], ['State', null],
			    ['Roles', list(user.roles)],
			    ['Created', when(user.created_at)]].forEach(
			    function (f) {
				var dd = el('dd');

				dl.appendChild(el('dt', null, f[0]));
				if (f[0] === 'State')
					dd.appendChild(stateWord(
					    user.enabled !== false));
				else
					dd.textContent = f[1] ? f[1] : '\u2014';
				dl.appendChild(dd);
			});
			facts.appendChild(dl);
			t = table('ACL entries of ' + name, ['Path', 'Role',
			    'Propagate']);
			(user.acl || []).forEach(function (e) {
				var tr = row([e.path, e.role, e.propagate ?
				    'yes' : 'no']);

				tr.setAttribute('data-path', e.path);
				t.add(tr);
			});
			if (!(user.acl || []).length)
				t.add(row(['none']));
			acl.appendChild(t);
			if (keys)
				loadKeys();
		});
	}

	function loadPerms() {
		call('GET', base + '/permissions').then(function (res) {
			var t;

			if (!ctx.live)
				return;
			reset(perms);
			if (res.status !== 200 || !res.data) {
				failed(perms, 'the privileges', res);
				return;
			}
			t = table('Privileges of ' + name + ' by path',
			    ['Path', 'Privileges']);
			Object.keys(res.data).sort().forEach(function (p) {
				var tr = row([p, list(res.data[p])]);

				tr.setAttribute('data-path', p);
				t.add(tr);
			});
			perms.appendChild(t);
		});
	}

	function endButton(s, err) {
		return confirmButton('End', 'end', 'End session ' + s.id + '?',
		    function (back) {
			call('DELETE', base + '/sessions/' + enc(s.id)).then(
			    function (res) {
				back();
				if (res.status !== 204 && res.status !== 200) {
					say(err, res);
					return;
				}
				status('info', 'Ended session ' + s.id + '.',
				    true);
				loadSessions();
			});
		});
	}

	function loadSessions() {
		call('GET', base + '/sessions').then(function (res) {
			var t;

			if (!ctx.live)
				return;
			reset(sess);
			if (res.status !== 200 || !Array.isArray(res.data)) {
				failed(sess, 'the sessions', res);
				return;
			}
			t = table('Live sessions of ' + name, ['Session',
			    'Signed in', 'Expires', 'From', 'Actions']);
			res.data.forEach(function (s) {
				var err = errorLine(), cell = el('div');
				var tr;

				/* Its own session ends with Sign out. */
				cell.appendChild(s.current ? el('span', 'muted',
				    'use Sign out') : endButton(s, err));
				cell.appendChild(err);
				tr = row([s.id + (s.current ?
				    ' (this one)' : ''), when(s.created_at),
				    when(s.expires_at), s.remote, cell]);
				tr.setAttribute('data-session', s.id);
				t.add(tr);
			});
			if (res.data.length === 0)
				t.add(row(['none']));
			sess.appendChild(t);
		});
	}

	function loadKeys() {
		call('GET', base + '/api-keys').then(function (res) {
			if (!ctx.live)
				return;
			reset(keys);
			keys.appendChild(secret);
			if (res.status !== 200 || !Array.isArray(res.data)) {
				failed(keys, 'the API keys', res);
				return;
			}
			keys.appendChild(keyTable(res.data));
			keys.appendChild(keyForm());
		});
	}

	function keyTable(list0) {
		var t = table('API keys of ' + name, ['Name', 'Key id',
		    'Roles', 'Expires', 'Created', 'Last used', 'Actions']);

		list0.forEach(function (k) {
			var err = errorLine(), cell = el('div'), tr;

			cell.appendChild(confirmButton('Revoke', 'revoke',
			    'Revoke key ' + k.name + '?', function (back) {
				call('DELETE', base + '/api-keys/' +
				    enc(k.key_id)).then(function (r2) {
					back();
					if (r2.status !== 204 &&
					    r2.status !== 200) {
						say(err, r2);
						return;
					}
					status('info', 'Revoked key ' + k.name +
					    '.', true);
					loadKeys();
				});
			}));
			cell.appendChild(err);
			tr = row([k.name, k.key_id, k.roles ? list(k.roles) :
			    'all of ' + name + '\u2019s', when(k.expires_at) ===
			    '\u2014' ? 'never' : when(k.expires_at),
			    when(k.created_at), when(k.last_used_at), cell]);
			tr.setAttribute('data-key', k.key_id);
			t.add(tr);
		});
		if (list0.length === 0)
			t.add(row(['none']));
		return t;
	}

	/* The roles a key may be limited to: those the owner holds. */
	function ownRoles() {
		var out = [];

		(user && user.roles || []).concat((user && user.acl || [])
		    .map(function (e) {
			return e.role;
		})).forEach(function (n) {
			if (out.indexOf(n) < 0)
				out.push(n);
		});
		return out;
	}

	function keyForm() {
		var f = form('key-create', 'Create key', submit);
		var kn = field('Key name', input('text', 'name'),
		    'letters, digits, ".", "_" and "-"');
		var days = field('Expires in days (optional)',
		    input('number', 'expires_in_days'),
		    'empty: the key never expires');
		var rc = checks('Limit to roles (none ticked: all of ' +
		    name + '\u2019s)', 'roles', ownRoles(), []);
		var d = el('details', 'adm-add');

		kn.control.required = true;
		days.control.min = '1';
		f.appendChild(kn);
		f.appendChild(days);
		f.appendChild(rc);
		d.appendChild(el('summary', null, 'Create an API key'));
		d.appendChild(finish(f));

		function submit() {
			var body = { name: kn.control.value };
			var v = rc.values();

			if (days.control.value !== '')
				body.expires_in_days = Number(
				    days.control.value);
			if (v.length)
				body.roles = v;
			f.submitButton.disabled = true;
			call('POST', base + '/api-keys', body).then(
			    function (res) {
				f.submitButton.disabled = false;
				if (!ctx.live)
					return;
				if (res.status !== 201 || !res.data ||
				    typeof res.data.token !== 'string') {
					say(f.err, res);
					return;
				}
				showSecret(res.data);
				loadKeys();
			});
		}
		return d;
	}

	/* The one time the secret is shown: select it, or copy it. */
	function showSecret(k) {
		var box = clear(secret), out = input('text', 'secret', k.token);
		var w = field('Secret of key ' + k.name, out,
		    'Shown once: store it now, it cannot be shown again.');
		var note = el('p', 'adm-copied');

		box.setAttribute('role', 'region');
		box.setAttribute('aria-label', 'New API key');
		out.readOnly = true;
		out.classList.add('adm-secret');
		out.addEventListener('focus', function () {
			out.select();
		});
		note.setAttribute('role', 'status');
		box.appendChild(w);
		box.appendChild(button('Copy', 'copy', function () {
			out.focus();
			out.select();
			if (navigator.clipboard &&
			    navigator.clipboard.writeText)
				navigator.clipboard.writeText(k.token).then(
				    function () {
					note.textContent = 'Copied.';
				}, function () {
					note.textContent = 'Selected: press ' +
					    'Ctrl+C to copy it.';
				});
			else
				note.textContent = 'Selected: press Ctrl+C ' +
				    'to copy it.';
		}));
		box.appendChild(button('Done', 'done', function () {
			clear(box);
		}));
		box.appendChild(note);
		out.focus();
	}

	loadUser();
	loadPerms();
	if (sess)
		loadSessions();
}
