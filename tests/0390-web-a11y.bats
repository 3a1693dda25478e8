#!/usr/bin/env bats
#
# Accessibility of every page of the dashboard, in light and dark: axe-core
# (npm, tests only: node_modules/axe-core) run in headless Chromium on the
# sign-in form, then as an Administrator on every page the nav links to,
# the first VM's page (#/vms/NAME of GET /api/vms) and every #/admin/...
# and #/alerts/... page linked from those (followed on, up to 50 pages).
# The pages are found in the page itself, so a page added later is
# covered without a change here. A serious or critical violation fails
# the test, listed with its rule, impact and the elements it hit.
# Screenshots of each page at 1400x900 and 390x844, light and dark:
# build/artifacts/web/a11y-NAME[-dark]-{wide,phone}.png.

load helpers/common
load helpers/browser

AXE=$HX_REPO/node_modules/axe-core/axe.min.js

setup_file() {
	browser_start_file
	web_user admin admin-pass-1 Administrator
}

teardown_file() { browser_stop_file; }

setup() {
	[ -f "$AXE" ] || fail "axe-core is missing: scripts/install-deps"
	browser_fresh
}

# The serious and critical violations on the page as it is now, as
# lines "rule (impact): target, target"; none prints nothing.
AXE_RUN="axe.run(document, { resultTypes: ['violations'] }).then(r =>
    r.violations.filter(v => v.impact === 'serious' ||
    v.impact === 'critical').map(v => v.id + ' (' + v.impact + '): ' +
    v.nodes.map(n => n.target.join(' ')).join(', ')).join('\n'))"

# Until the page is still: its view shown, no fetch in flight, two frames.
SETTLED="!document.getElementById('views').hidden &&
    document.querySelector('#views [data-view]:not([hidden])') &&
    window.__hx.fetches.every(f => f.status !== null) &&
    new Promise(r => requestAnimationFrame(() =>
    requestAnimationFrame(() => r(true))))"

# check_page NAME: axe in light and dark, and the screenshots; adds what
# it found to $BATS_TEST_TMPDIR/found.
check_page() {
	local scheme suffix
	for scheme in light dark; do
		run cdp --timeout 60 --color-scheme "$scheme" eval "$AXE_RUN"
		assert_success
		if [ -n "$output" ]; then
			printf '%s (%s):\n%s\n' "$1" "$scheme" "$output" \
				>>"$BATS_TEST_TMPDIR/found"
		fi
		suffix=
		[ "$scheme" = dark ] && suffix=-dark
		HX_COLOR_SCHEME=$scheme web_shot "a11y-$1$suffix"
	done
}

report() {
	if [ -s "$BATS_TEST_TMPDIR/found" ]; then
		cat "$BATS_TEST_TMPDIR/found"
		fail "axe found serious or critical violations (above)"
	fi
}

@test "a11y: the sign-in form has no serious or critical violation, light or dark" {
	run cdp navigate "$URL/" --inject "$AXE"
	assert_success
	js_wait "document.getElementById('conn').dataset.state === 'signin' &&
	    !document.getElementById('signin').hidden && typeof axe"
	check_page signin
	report
}

@test "a11y: every page, the first VM's and each admin and alerts page linked, light and dark" {
	local queue=() seen=" " h lit name vm="" n=0 found i
	web_sign_in admin admin-pass-1
	run cdp navigate about:blank
	assert_success
	run cdp navigate "$URL/#/" --inject "$AXE"
	assert_success
	js_wait "document.getElementById('conn').dataset.state === 'connected' &&
	    typeof axe === 'object'"

	# The nav's pages, then the first VM's.
	js "Array.from(document.querySelectorAll('#nav a[href^=\"#/\"]'),
	    a => a.getAttribute('href')).join('\n')"
	mapfile -t queue <<<"$output"
	[ "${#queue[@]}" -ge 1 ] || fail "no page links in the nav"
	# The collector's first inventory may still be on its way.
	for i in $(seq 100); do
		hx_root GET /api/vms
		assert_line --index 1 200
		vm=$(jq -r '.[0].name // empty' <<<"${lines[0]}")
		[ -n "$vm" ] && break
		sleep 0.1
	done
	[ -n "$vm" ] || fail "GET /api/vms named no VM in 10 s: ${lines[0]}"
	js "'#/vms/' + encodeURIComponent($(jq -n --arg v "$vm" '$v'))"
	queue+=("$output")

	while [ "${#queue[@]}" -gt 0 ] && [ "$n" -lt 50 ]; do
		h=${queue[0]}
		queue=("${queue[@]:1}")
		case "$seen" in *" $h "*) continue ;; esac
		seen="$seen$h "
		n=$((n + 1))
		lit=$(jq -n --arg h "$h" '$h')
		js "location.hash = $lit; true"
		run cdp --timeout 20 wait "location.hash === $lit && ($SETTLED)"
		assert_success
		name=${h#\#/}
		name=${name%%\?*}
		name=$(tr -c 'A-Za-z0-9\n' '-' <<<"${name:-monitor}")
		check_page "$name"
		# Sub-pages of administration and alerts, linked from here.
		js "Array.from(document.querySelectorAll(
		    'a[href^=\"#/admin/\"], a[href^=\"#/alerts/\"]'),
		    a => a.getAttribute('href')).join('\n')"
		if [ -n "$output" ]; then
			mapfile -t found <<<"$output"
			queue+=("${found[@]}")
		fi
	done
	echo "# checked $n pages:$seen" >&3
	[ "$n" -ge 2 ] || fail "only $n pages checked"
	report
}
