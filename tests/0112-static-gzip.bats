#!/usr/bin/env bats
# Precompressed static files: the build leaves FILE.gz beside each text
# file of the page, and horcruxd sends it, with FILE's type, to a client
# whose Accept-Encoding allows gzip, when it is at least as new as FILE;
# anyone else gets FILE as before. One daemon for the file, on a copy of
# the built web root (times kept) that the tests may add files to.

load helpers/common

TT=$HX_BUILD/tests/tools/hx-test-tool

setup_file() {
	export WEB=$BATS_FILE_TMPDIR/web
	cp -R --preserve=timestamps "$HX_REPO/share/web" "$WEB"
	export DDIR=$BATS_FILE_TMPDIR/hx
	start_daemon --web-root "$WEB"
	export HXD_PID PORT SOCK URL HXD_LOG
}

teardown_file() {
	stop_daemon
}

# get FILE [CURL ARGS...]: GET /FILE; headers (lower case, no CR) in
# $T/h, body in $T/b, status in $output.
get() {
	local f=$1
	shift
	T=$BATS_TEST_TMPDIR
	run curl -s -o "$T/b" -D "$T/h.raw" -w '%{http_code}' "$@" "$URL/$f"
	tr -d '\r' <"$T/h.raw" | tr 'A-Z' 'a-z' >"$T/h"
}

# header NAME: the value of header NAME of the last get, or nothing.
header() {
	sed -n "s/^$1: //p" "$T/h"
}

@test "every text file of the built page has a fresh gzip copy, sent byte for byte to a gzip client" {
	local f n=0 ctype
	while IFS= read -r f; do
		n=$((n + 1))
		[ -f "$WEB/$f.gz" ] || { echo "make build left no $f.gz" >&2; return 1; }
		[ ! "$WEB/$f.gz" -ot "$WEB/$f" ] || { echo "$f.gz is older than $f" >&2; return 1; }
		get "$f"
		assert_output 200
		ctype=$(header content-type)
		get "$f" -H 'Accept-Encoding: gzip, deflate, br'
		assert_output 200
		assert_equal "$(header content-encoding)" gzip
		assert_equal "$(header vary)" accept-encoding
		assert_equal "$(header content-type)" "$ctype"
		assert_equal "$(header content-length)" "$(stat -c %s "$WEB/$f.gz")"
		run cmp "$T/b" "$WEB/$f.gz"
		assert_success
		run sh -c 'gzip -dc <"$1" | cmp - "$2"' sh "$T/b" "$WEB/$f"
		assert_success
	done < <(cd "$WEB" && find . -type f \( -name '*.js' -o -name '*.css' -o -name '*.html' \) | sed 's,^\./,,' | sort)
	# The page, its modules, its styles and uPlot at least.
	[ "$n" -ge 8 ]
	[ -f "$WEB/vendor/uPlot.js.gz" ]
	# The site root is index.html, compressed too.
	get "" -H 'Accept-Encoding: gzip'
	assert_equal "$(header content-encoding)" gzip
	assert_equal "$(header content-type)" 'text/html; charset=utf-8'
	run sh -c 'gzip -dc <"$1" | cmp - "$2"' sh "$T/b" "$WEB/index.html"
	assert_success
}

@test "a client that did not ask for gzip, or refused it, gets the file itself" {
	local ae
	for ae in '' 'identity' 'gzip;q=0' 'deflate, br' '*;q=0' 'gzip;q=0, *' 'gzipx'; do
		if [ -n "$ae" ]; then
			get js/ui.js -H "Accept-Encoding: $ae"
		else
			get js/ui.js
		fi
		assert_output 200
		assert_equal "$(header content-encoding)" ''
		# The answer still depends on the header, for caches.
		assert_equal "$(header vary)" accept-encoding
		assert_equal "$(header content-length)" "$(stat -c %s "$WEB/js/ui.js")"
		run cmp "$T/b" "$WEB/js/ui.js"
		assert_success
	done
	for ae in 'GZIP' 'x-gzip' '*' 'br;q=1, gzip ; q=0.5' 'identity, gzip;q=0.001'; do
		get js/ui.js -H "Accept-Encoding: $ae"
		assert_equal "$(header content-encoding)" gzip
	done
}

@test "Accept-Encoding values: names, weights and wildcards (hx-test-tool accepts-gzip)" {
	local v
	for v in gzip 'GZip, deflate' x-gzip '*' 'gzip;q=1' 'gzip;q=1.000' \
	    'gzip; q=0.5' 'gzip;q=0.001' 'deflate;q=1, gzip;q=0.1' 'br, *;q=0.2'; do
		run "$TT" accepts-gzip "$v"
		assert_success
		assert_output gzip
	done
	for v in '' identity 'deflate, br' 'gzip;q=0' 'gzip; Q=0.000' '*;q=0' \
	    'gzip;q=0, *' 'gzip;q=1.5' 'gzip;q=0.0001' 'gzip;q=abc' 'gzip;q=' \
	    'gzip;level=9;q=0' gzipx xgzip ';q=1' 'gzip;q=2'; do
		run "$TT" accepts-gzip "$v"
		assert_failure 1
		assert_output identity
	done
	run --separate-stderr "$TT" accepts-gzip
	assert_failure 2
	run --separate-stderr "$TT" accepts-gzip gzip extra
	assert_failure 2
}

@test "a gzip copy older than its file is not used; a fresh one is" {
	printf 'export const v = "new";\n' >"$WEB/js/stale.js"
	printf 'export const v = "old";\n' | gzip -9 -n >"$WEB/js/stale.js.gz"
	touch -d '-1 hour' "$WEB/js/stale.js.gz"
	get js/stale.js -H 'Accept-Encoding: gzip'
	assert_output 200
	assert_equal "$(header content-encoding)" ''
	assert_equal "$(header vary)" ''
	run cat "$T/b"
	assert_output 'export const v = "new";'
	# The same time to the nanosecond counts as fresh.
	touch -r "$WEB/js/stale.js" "$WEB/js/stale.js.gz"
	get js/stale.js -H 'Accept-Encoding: gzip'
	assert_equal "$(header content-encoding)" gzip
	run sh -c 'gzip -dc <"$1"' sh "$T/b"
	assert_output 'export const v = "old";'
	# A second older than the file is stale again.
	touch -d "@$(($(stat -c %Y "$WEB/js/stale.js") - 1))" "$WEB/js/stale.js.gz"
	get js/stale.js -H 'Accept-Encoding: gzip'
	assert_equal "$(header content-encoding)" ''
}

@test "a gzip copy outside the web root, or not a regular file, is not used" {
	printf 'body { color: red; }\n' >"$WEB/leak.css"
	printf 'SECRET\n' | gzip -n >"$BATS_TEST_TMPDIR/outside.gz"
	touch -d '+1 hour' "$BATS_TEST_TMPDIR/outside.gz"
	ln -s "$BATS_TEST_TMPDIR/outside.gz" "$WEB/leak.css.gz"
	get leak.css -H 'Accept-Encoding: gzip'
	assert_output 200
	assert_equal "$(header content-encoding)" ''
	run cat "$T/b"
	assert_output 'body { color: red; }'
	printf 'p {}\n' >"$WEB/dir.css"
	mkdir "$WEB/dir.css.gz"
	get dir.css -H 'Accept-Encoding: gzip'
	assert_output 200
	assert_equal "$(header content-encoding)" ''
	run cat "$T/b"
	assert_output 'p {}'
}

@test "HEAD answers the same headers as GET, gzip or not, and no body" {
	get js/ui.js -X HEAD -H 'Accept-Encoding: gzip'
	assert_output 200
	assert_equal "$(header content-encoding)" gzip
	assert_equal "$(header vary)" accept-encoding
	assert_equal "$(header content-type)" 'text/javascript; charset=utf-8'
	assert_equal "$(header content-length)" "$(stat -c %s "$WEB/js/ui.js.gz")"
	[ ! -s "$T/b" ]
	get js/ui.js -X HEAD
	assert_output 200
	assert_equal "$(header content-encoding)" ''
	assert_equal "$(header content-length)" "$(stat -c %s "$WEB/js/ui.js")"
	[ ! -s "$T/b" ]
	# The daemon still answers after both.
	run curl -sf -o /dev/null "$URL/api/health"
	assert_success
}

@test "a request for x.gz itself is a file as any other: no encoding, its own bytes" {
	get js/ui.js.gz -H 'Accept-Encoding: gzip'
	assert_output 200
	assert_equal "$(header content-encoding)" ''
	assert_equal "$(header content-type)" application/octet-stream
	run cmp "$T/b" "$WEB/js/ui.js.gz"
	assert_success
	get js/ui.js.gz
	run cmp "$T/b" "$WEB/js/ui.js.gz"
	assert_success
}

@test "paths that climb out of the web root are still refused, gzip or not" {
	local p
	printf 'x\n' | gzip -n >"$BATS_FILE_TMPDIR/secret.txt.gz"
	printf 'x\n' >"$BATS_FILE_TMPDIR/secret.txt"
	touch -d '+1 hour' "$BATS_FILE_TMPDIR/secret.txt.gz"
	for p in /../../../../etc/passwd /%2e%2e/%2e%2e/etc/passwd /..%2f..%2fetc/passwd \
	    /../secret.txt /%2e%2e/secret.txt /../secret.txt.gz; do
		run curl -s --path-as-is -o /dev/null -w '%{http_code}' \
		    -H 'Accept-Encoding: gzip' "$URL$p"
		refute_output 200
	done
	run curl -s --path-as-is -H 'Accept-Encoding: gzip' "$URL/../../../../etc/passwd"
	refute_output --partial "root:x:0:0"
	run curl -s -o /dev/null -w '%{http_code}' -H 'Accept-Encoding: gzip' "$URL/no-such-file.js"
	assert_output 404
	# A lone .gz whose file is gone is no way in either.
	printf 'x\n' | gzip -n >"$WEB/gone.js.gz"
	run curl -s -o /dev/null -w '%{http_code}' -H 'Accept-Encoding: gzip' "$URL/gone.js"
	assert_output 404
}
