/*
 * admin.js - the administration pages (DESIGN.md sections 4 and 5):
 * #/admin (the sections this account may use), #/admin/users,
 * #/admin/users/NAME, #/admin/roles, #/admin/acl and #/admin/audit. All
 * are the router's page "admin" and share the element data-view="admin";
 * the users pages are admin-users.js', the others admin-access.js'.
 *
 * What an account may do comes from GET /api/auth/me through can(), with
 * the privileges horcruxd/http-route.c's route table names: reading
 * users, the ACL and the audit log needs SysAudit on /access, changing
 * users UserModify, changing roles and the ACL PermissionsModify; anyone
 * may read the roles, and everyone their own account, sessions and API
 * keys. A control the account lacks the privilege for is not shown; the
 * daemon checks every request again, and its refusal is shown verbatim.
 *
 * The page keeps nothing between visits: leaving it empties the element,
 * so an API key's secret, shown once after it is made, is gone for good.
 */

import { route } from './router.js';
import { account, onAccount } from './shell.js';
import { $, clear, el } from './ui.js';
import { denied, may } from './admin-common.js';
import { userPage, usersPage } from './admin-users.js';
import { aclPage, auditPage, rolesPage } from './admin-access.js';

var cur = null;		/* {page, params, query, ctx} while shown */
var seen = '';		/* the account the page was drawn for */

/* The sections, the privilege each needs to be listed (null: anyone). */
var SECTIONS = [
	{ path: 'users', title: 'Users', priv: 'SysAudit',
	    what: 'accounts, their roles, sessions and API keys' },
	{ path: 'roles', title: 'Roles', priv: null,
	    what: 'built-in and custom roles and their privileges' },
	{ path: 'acl', title: 'Access control list', priv: 'SysAudit',
	    what: 'roles granted to users on a path' },
	{ path: 'audit', title: 'Audit log', priv: 'SysAudit',
	    what: 'sign-ins and identity changes' }
];

function viewRoot() {
	return $('view-admin');
}

/* The page heading and the links between the sections. */
function frame(r, title, here) {
	var nav = el('nav', 'adm-nav'), ul = el('ul');

	r.appendChild(el('h2', null, title));
	nav.setAttribute('aria-label', 'Administration sections');
	[{ path: '', title: 'Overview', priv: null }].concat(SECTIONS)
	    .forEach(function (s) {
		var a, li;

		if (s.priv && !may(s.priv))
			return;
		li = el('li');
		a = el('a', null, s.title);
		a.href = '#/admin' + (s.path ? '/' + s.path : '');
		if (s.path === here)
			a.setAttribute('aria-current', 'page');
		li.appendChild(a);
		ul.appendChild(li);
	});
	nav.appendChild(ul);
	r.appendChild(nav);
}

function overview(r) {
	var me = account(), ul = el('ul', 'adm-sections'), li, a;
	var admin = may('SysAudit') || may('UserModify') ||
	    may('PermissionsModify');

	if (!admin)
		denied(r, 'the users, the access control list or the ' +
		    'audit log of this server');
	SECTIONS.forEach(function (s) {
		if (s.priv && !may(s.priv))
			return;
		li = el('li');
		a = el('a', null, s.title);
		a.href = '#/admin/' + s.path;
		li.appendChild(a);
		li.appendChild(el('span', 'muted', ' \u2014 ' + s.what));
		ul.appendChild(li);
	});
	/* Local trust (root@local) has no account record to show. */
	if (me && me.auth !== 'local' && typeof me.username === 'string') {
		li = el('li');
		a = el('a', null, 'Your account');
		a.href = '#/admin/users/' + encodeURIComponent(me.username);
		a.setAttribute('data-link', 'self');
		li.appendChild(a);
		li.appendChild(el('span', 'muted', ' \u2014 your sessions ' +
		    'and API keys'));
		ul.appendChild(li);
	}
	r.appendChild(ul);
}

var PAGES = {
	overview: { title: 'Administration', here: '', draw: overview },
	users: { title: 'Users', here: 'users', draw: usersPage },
	user: { title: 'User', here: 'users', draw: userPage },
	roles: { title: 'Roles', here: 'roles', draw: rolesPage },
	acl: { title: 'Access control list', here: 'acl', draw: aclPage },
	audit: { title: 'Audit log', here: 'audit', draw: auditPage }
};

function draw() {
	var r = clear(viewRoot()), p = PAGES[cur.page];
	var title = cur.page === 'user' ? 'User ' + cur.params[0] : p.title;

	cur.ctx.live = false;
	cur.ctx = { live: true };
	seen = JSON.stringify(account());
	frame(r, title, p.here);
	if (account() === null) {
		r.appendChild(el('p', 'muted', 'Waiting for your account\u2026'));
		return;
	}
	p.draw(r, cur.params, cur.query, cur.ctx);
}

function enter(page) {
	return function (params, query) {
		cur = { page: page, params: params, query: query,
		    ctx: { live: false } };
		draw();
	};
}

function leave() {
	if (cur)
		cur.ctx.live = false;
	cur = null;
	clear(viewRoot());
}

[['overview', '/admin'], ['users', '/admin/users'],
    ['user', '/admin/users/:name'], ['roles', '/admin/roles'],
    ['acl', '/admin/acl'], ['audit', '/admin/audit']].forEach(
    function (p) {
	route('admin', p[1], { title: PAGES[p[0]].title, enter: enter(p[0]),
	    leave: leave });
});

/*
 * A new account, or new rights: draw again. The same account seen
 * again on a reconnect changes nothing (a key's secret stays shown).
 */
onAccount(function (me) {
	if (me === null) {
		seen = '';
		if (cur) {
			cur.ctx.live = false;
			clear(viewRoot());
		}
		return;
	}
	if (cur && JSON.stringify(me) !== seen)
		draw();
});
