/*
 * fake-fetch.js - injected after probe.js for the sign-in error test:
 * lets the test script the server's answers to chosen REST calls. A test
 * queues replies with
 *
 *     window.__hxStub('/api/auth/login', { status: 429,
 *         headers: { 'Retry-After': '42' }, body: {...}, hold: true })
 *
 * and the next fetch of that path gets the first queued reply instead of
 * going out; with hold it stays pending until window.__hxRelease() (so a
 * test can look at the page while a request is in flight); with reject
 * it fails as an unreachable server does. Paths with nothing queued go to
 * the real server. window.__hxStubbed counts the requests answered here;
 * __hxBodies and __hxHeaders hold what each of them sent (the body
 * parsed as JSON).
 *
 * Replies can also be queued before the page's own script runs: inject a
 * file that calls __hxStub after this one.
 */
(function () {
	var queues = {};
	var held = [];
	var realFetch = window.fetch;

	window.__hxStubbed = 0;
	window.__hxBodies = [];
	window.__hxHeaders = [];
	window.__hxStub = function (path, reply) {
		(queues[path] = queues[path] || []).push(reply);
	};
	window.__hxRelease = function () {
		var n = held.length;

		held.splice(0).forEach(function (go) {
			go();
		});
		return n;
	};
	window.fetch = function (input, init) {
		var q = queues[String(input)], reply;

		if (!q || q.length === 0)
			return realFetch.apply(this, arguments);
		reply = q.shift();
		window.__hxStubbed++;
		window.__hxBodies.push(init && typeof init.body === 'string' ?
		    JSON.parse(init.body) : null);
		window.__hxHeaders.push(init && init.headers ? init.headers :
		    {});
		return new Promise(function (resolve, reject) {
			var answer = function () {
				if (reply.reject) {
					reject(new TypeError('Failed to fetch'));
					return;
				}
				resolve(new Response(reply.body === undefined ?
				    null : JSON.stringify(reply.body), {
					status: reply.status,
					headers: Object.assign({ 'Content-Type':
					    'application/json' },
					    reply.headers || {})
				}));
			};

			if (reply.hold)
				held.push(answer);
			else
				answer();
		});
	};
})();
