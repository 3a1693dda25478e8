#!/usr/bin/env bats
# API keys per user are capped (max_api_keys_per_user): one account cannot
# grow the identity snapshot that every request is checked against without
# bound. The cap is a config key with a checked range.

load helpers/common
load helpers/api

teardown() {
	stop_daemon
}

@test "a user holds at most max_api_keys_per_user keys: 409 beyond, room again after a revoke" {
	local i out kid
	start_daemon --max-api-keys-per-user 3
	for u in erin frank; do
		out=$(sock POST /api/users "{\"username\":\"$u\",\"password\":\"password-1\"}")
		assert_equal "$(status_of "$out")" 201
	done
	for i in 1 2 3; do
		out=$(sock POST /api/users/erin/api-keys "{\"name\":\"k$i\"}")
		assert_equal "$(status_of "$out")" 201
	done
	kid=$(body_of "$out" | jq -r .key_id)
	out=$(sock POST /api/users/erin/api-keys '{"name":"k4"}')
	assert_equal "$(status_of "$out")" 409
	assert_equal "$(body_of "$out" | jq -r .error)" CONFLICT
	assert_equal "$(body_of "$out" | jq -r .message)" \
		"'erin' already has 3 API keys, the most allowed (max_api_keys_per_user); revoke one first"
	assert_equal "$(body_of "$(sock GET /api/users/erin/api-keys)" | jq length)" 3
	# The cap is per user.
	assert_equal "$(status_of "$(sock POST /api/users/frank/api-keys '{"name":"f1"}')")" 201
	# A revoke makes room again.
	assert_equal "$(status_of "$(sock DELETE "/api/users/erin/api-keys/$kid")")" 204
	assert_equal "$(status_of "$(sock POST /api/users/erin/api-keys '{"name":"k5"}')")" 201
	assert_equal "$(status_of "$(sock POST /api/users/erin/api-keys '{"name":"k6"}')")" 409
}

@test "the default cap is 100" {
	run "$HXD" --dump-options
	assert_success
	assert_line --regexp $'^max_api_keys_per_user\tmax-api-keys-per-user\t-\tkey\t100$'
}

@test "a bad max_api_keys_per_user is a clear error: exit 2 from a flag, 1 from the file" {
	local v
	for v in 0 100001 -3 many; do
		run --separate-stderr "$HXD" -f --max-api-keys-per-user "$v" \
			--data-dir "$BATS_TEST_TMPDIR/d" --socket "$BATS_TEST_TMPDIR/s"
		assert_equal "$status" 2
		[[ $stderr == *"--max-api-keys-per-user: '$v'"* ]]
	done
	printf 'max_api_keys_per_user = 0\n' >"$BATS_TEST_TMPDIR/bad.conf"
	run --separate-stderr "$HXD" -f -c "$BATS_TEST_TMPDIR/bad.conf" \
		--data-dir "$BATS_TEST_TMPDIR/d" --socket "$BATS_TEST_TMPDIR/s"
	assert_equal "$status" 1
	[[ $stderr == *"max_api_keys_per_user"*"out of range (1 to 100000)"* ]]
}
