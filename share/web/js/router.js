/*
 * router.js - the dashboard's pages, addressed by the URL's fragment so
 * that a deep link survives a reload: #/vms/web-1?range=1h is page "vm"
 * with params ["web-1"] and query {range: "1h"}.
 *
 * A page module calls route() once when it loads. Each page owns one
 * element with data-view="NAME" in index.html; the router shows the
 * current page's element, hides the others, marks the current nav link
 * with aria-current and moves focus to the page's first heading, and
 * calls the page's enter(params, query) and, when it is left, leave().
 * setQuery() rewrites the query of the current page without entering it
 * again (a chart's range, a table's sort), so Back does not replay it.
 * A page names the event types it renders (events: [...]); the shell
 * subscribes to the current page's (routeEvents) and hears of every
 * change (onRoute), so a page not shown is not fed.
 */

var routes = [];	/* {name, re, enter, leave, title} in order */
var current = null;	/* {route, params, query} */
var changed = [];	/* fn(), after each page's enter */

function parse(hash) {
	var h = hash.replace(/^#/, ''), q = {}, i = h.indexOf('?');
	var path = i < 0 ? h : h.slice(0, i);

	if (i >= 0) {
		new URLSearchParams(h.slice(i + 1)).forEach(function (v, k) {
			q[k] = v;
		});
	}
	return { path: path === '' ? '/' : path, query: q };
}

/*
 * route(NAME, PATTERN, PAGE): PATTERN is a path with :name segments
 * ("/vms/:name"), each segment matched whole and URL-decoded; PAGE has
 * title, enter(params, query) and optionally leave() and events (the
 * event types it renders while shown).
 */
export function route(name, pattern, page) {
	var re = new RegExp('^' + pattern.replace(/[.*+?^${}()|[\]\\]/g,
	    '\\$&').replace(/\/:[a-z]+/g, '/([^/]+)') + '$');

	routes.push({ name: name, re: re, page: page });
}

function find(path) {
	var i, m;

	for (i = 0; i < routes.length; i++) {
		m = routes[i].re.exec(path);
		if (m) {
			return { route: routes[i], params: m.slice(1).map(
			    function (s) {
				try {
					return decodeURIComponent(s);
				} catch (e) {
					return s;
				}
			}) };
		}
	}
	return null;
}

/* The fragment for page path PATH (segments encoded) and QUERY. */
export function href(segments, query) {
	var q = new URLSearchParams(query || {}).toString();

	return '#/' + segments.map(encodeURIComponent).join('/') +
	    (q ? '?' + q : '');
}

/* The event types the page shown renders (a copy), [] before any. */
export function routeEvents() {
	return current && Array.isArray(current.route.page.events) ?
	    current.route.page.events.slice() : [];
}

/* onRoute(FN): FN() after every page shown (entered). */
export function onRoute(fn) {
	changed.push(fn);
}

export function currentQuery() {
	return current ? Object.assign({}, current.query) : {};
}

/* Replace the current page's query (merged; null drops a key). */
export function setQuery(changes) {
	var q = currentQuery(), u, k;

	for (k in changes) {
		if (changes[k] === null || changes[k] === undefined)
			delete q[k];
		else
			q[k] = String(changes[k]);
	}
	if (current)
		current.query = q;
	u = new URL(location.href);
	u.hash = location.hash.replace(/\?.*$/, '') +
	    (Object.keys(q).length ? '?' + new URLSearchParams(q) : '');
	history.replaceState(history.state, '', u.href);
}

function show() {
	var p = parse(location.hash), hit = find(p.path);
	var views = document.querySelectorAll('[data-view]');
	var links = document.querySelectorAll('#nav a[data-nav]');
	var i, head;

	if (hit === null)
		hit = find('/');
	if (current && current.route.page.leave)
		current.route.page.leave();
	current = { route: hit.route, params: hit.params, query: p.query };
	for (i = 0; i < views.length; i++)
		views[i].hidden = views[i].dataset.view !== hit.route.name;
	for (i = 0; i < links.length; i++) {
		if (hit.route.name.indexOf(links[i].dataset.nav) === 0)
			links[i].setAttribute('aria-current', 'page');
		else
			links[i].removeAttribute('aria-current');
	}
	document.title = (hit.route.page.title || 'Horcrux') + ' \u2014 Horcrux';
	hit.route.page.enter(hit.params, p.query);
	head = document.querySelector('[data-view="' + hit.route.name +
	    '"] h1, [data-view="' + hit.route.name + '"] h2');
	if (head && started) {
		head.tabIndex = -1;
		head.focus({ preventScroll: true });
	}
	started = true;
	changed.forEach(function (fn) {
		fn();
	});
}

var started = false;

/* Follow the fragment from now on, and show the page it names now. */
export function startRouter() {
	window.addEventListener('hashchange', show);
	show();
}
