/*
 * oidc-done.js - the last step of an OpenID Connect sign-in: the page the
 * daemon answers the provider's callback with (horcruxd/job-oidc.c) runs
 * it. The session cookie came with that page; the session's CSRF token,
 * user and expiry are in #oidc-done's data attributes. This keeps them
 * where the dashboard keeps a password login's (sessionStorage, the key
 * and shape of shell.js's saveSession) and opens the dashboard, whose
 * requests carry the SameSite=Strict cookie now that the navigation is
 * our own. A static file because the page's CSP allows no inline script.
 */
var STORE_KEY = 'horcrux.session';	/* as shell.js */
var el = document.getElementById('oidc-done');

if (el && el.dataset.csrfToken && el.dataset.username) {
	try {
		sessionStorage.setItem(STORE_KEY, JSON.stringify({
		    csrf_token: el.dataset.csrfToken,
		    username: el.dataset.username,
		    expires_at: el.dataset.expiresAt,
		    final: false }));
	} catch (e) {
		/* Storage off: the dashboard finds the cookie session anyway. */
	}
	location.replace('/');
}
