#!/usr/bin/env bats
# horcrux-cli command by command, sqlite's triple for each: no arguments,
# valid, too many (exit codes and messages), against a real horcruxd on the
# demo node, as root@local over the Unix socket. Plus: prefixes and
# ambiguity, global options, exit codes 3 and 4, -o json for every listing.

load helpers/common
load helpers/cli

setup_file() {
	cli_start_daemon || return 1
	cli_mkuser alice --role Auditor --email alice@example.org || return 1
}

teardown_file() {
	stop_daemon
}

# too_many ARGS...: the command with one argument too many is a usage error.
too_many() {
	run -2 --separate-stderr "$CLI" "$@"
	assert_equal "$output" ""
	[[ $stderr == *"too many arguments"* ]] || { echo "$stderr"; return 1; }
	[[ $stderr == *"usage: horcrux-cli "* ]] || { echo "$stderr"; return 1; }
}

# needs ARGS... -- WHAT: the command without its arguments is a usage error.
needs() {
	local what=${*: -1}
	run -2 --separate-stderr "$CLI" "${@:1:$#-1}"
	assert_equal "$output" ""
	[[ $stderr == *"needs $what"* ]] || { echo "$stderr"; return 1; }
}

@test "global options: --help lists every command, --version, unknown options" {
	run -0 "$CLI" --help
	assert_line --partial "usage: horcrux-cli [options] [COMMAND [ARGS...]]"
	assert_line --partial "user add NAME [--email EMAIL] [--realm REALM] [--role ROLE]... [--disabled] [--password-stdin]"
	assert_line --partial "apikey revoke [USER] KEYID"
	run -0 "$CLI" -V
	assert_output "horcrux-cli 0.1.0"
	run -2 --separate-stderr "$CLI" --frobnicate
	assert_equal "$stderr" "horcrux-cli: unknown option '--frobnicate'
Try 'horcrux-cli --help'."
	run -2 --separate-stderr "$CLI" -o yaml user list
	[[ $stderr == *"unknown output format 'yaml'"* ]]
	run -2 --separate-stderr "$CLI" -c ftp://x user list
	[[ $stderr == *"unsupported server 'ftp://x'"* ]]
}

@test "prefixes: unique ones run, ambiguous and unknown ones are usage errors" {
	run -0 "$CLI" us li
	assert_line --regexp '^alice@local +yes +Auditor +alice@example.org$'
	run -2 --separate-stderr "$CLI" l
	assert_equal "$stderr" "horcrux-cli: ambiguous command 'l': could be login, logout"
	run -2 --separate-stderr "$CLI" vm s web-1
	assert_equal "$stderr" "horcrux-cli: ambiguous command 'vm s': could be show, start, shutdown, stop, suspend"
	run -2 --separate-stderr "$CLI" frob
	assert_equal "$stderr" "horcrux-cli: unknown command 'frob'; try 'help'"
	run -2 --separate-stderr "$CLI" user frob
	assert_equal "$stderr" "horcrux-cli: unknown command 'user frob'; 'user' has list, show, add, modify, delete, passwd, sessions, logout, permissions"
}

@test "groups without a subcommand are usage errors naming the subcommands" {
	local g
	for g in user role privilege acl apikey vm node; do
		run -2 --separate-stderr "$CLI" "$g"
		[[ $stderr == "horcrux-cli: '$g' needs a subcommand: list"* ||
		    $stderr == "horcrux-cli: '$g' needs a subcommand: status" ]] ||
			{ echo "$g: $stderr"; return 1; }
	done
}

@test "whoami: valid / too many" {
	run -0 "$CLI" whoami
	assert_line --regexp '^User: +root@local$'
	assert_line --regexp '^Authenticated by: +local$'
	assert_line --regexp '^/access +.*UserModify'
	too_many whoami x
}

@test "user list / show: no args, valid, too many" {
	run -0 "$CLI" user list
	assert_line --index 0 --regexp '^USER +ENABLED +ROLES +EMAIL$'
	too_many user list x
	needs user show NAME
	run -0 "$CLI" user show alice
	assert_line --regexp '^Roles: +Auditor$'
	assert_line --regexp '^E-mail: +alice@example.org$'
	too_many user show alice x
	run -1 --separate-stderr "$CLI" user show nobody
	assert_equal "$stderr" "horcrux-cli: cannot show user 'nobody': no such user"
}

@test "user add / modify / delete: no args, valid, too many, daemon errors" {
	needs user add NAME
	run -0 "$CLI" user add bob --role VmUser --password-stdin <<<"bob-password-1"
	assert_output "added user 'bob'"
	too_many user add bob x --password-stdin
	run -1 --separate-stderr "$CLI" user add bob --password-stdin <<<"bob-password-1"
	[[ $stderr == "horcrux-cli: cannot add user 'bob': "*exist* ]] || { echo "$stderr"; false; }
	run -1 --separate-stderr "$CLI" user add shorty --password-stdin <<<"short"
	assert_equal "$stderr" "horcrux-cli: cannot add user 'shorty': a password must be 8 to 1024 bytes long"
	# No terminal (setsid: none even when the suite runs in one) and no
	# --password-stdin: say how.
	run -1 --separate-stderr setsid -w "$CLI" user add carol </dev/null
	assert_equal "$stderr" "horcrux-cli: cannot ask for the password: no terminal; use --password-stdin"

	needs user modify NAME
	run -0 "$CLI" user modify bob --role VmAdmin --role Auditor --email bob@example.org --disable
	assert_output "modified user 'bob'"
	run -0 "$CLI" -o json user show bob
	assert_equal "$(jq -c '[.roles, .email, .enabled]' <<<"$output")" '[["Auditor","VmAdmin"],"bob@example.org",false]'
	run -0 "$CLI" user modify bob --no-roles --enable
	run -0 "$CLI" -o json user show bob
	assert_equal "$(jq -c '[.roles, .enabled]' <<<"$output")" '[[],true]'
	run -2 --separate-stderr "$CLI" user modify bob
	[[ $stderr == "horcrux-cli: nothing to change: "* ]]
	run -2 --separate-stderr "$CLI" user modify bob --enable --disable
	[[ $stderr == *"contradict"* ]]
	too_many user modify bob x --enable

	needs user delete NAME
	too_many user delete bob x
	run -0 "$CLI" user delete bob
	assert_output "deleted user 'bob'"
	run -1 --separate-stderr "$CLI" user delete bob
	assert_equal "$stderr" "horcrux-cli: cannot delete user 'bob': user 'bob' not found"
}

@test "user passwd: own (with the old password), another's, too many" {
	cli_mkuser dave --role VmUser
	# root@local is no stored user: its own password cannot be set.
	run -1 --separate-stderr "$CLI" user passwd --password-stdin <<<"whatever-123"
	[[ $stderr == "horcrux-cli: cannot change the password of 'root@local': "* ]]
	# An administrator sets dave's without the old one.
	run -0 "$CLI" user passwd dave --password-stdin <<<"dave-new-pass-1"
	assert_output "changed the password of 'dave'"
	# dave changes his own: the current one first, then the new one.
	tok=$(curl -s --unix-socket "$SOCK" -H 'Content-Type: application/json' \
		-d '{"username":"dave","password":"dave-new-pass-1"}' http://localhost/api/auth/login | jq -r .token)
	HORCRUX_TOKEN=$tok run -4 --separate-stderr "$CLI" user passwd --password-stdin <<<$'wrong-old-pass\ndave-newer-pass-2'
	assert_equal "$stderr" "horcrux-cli: cannot change the password of 'dave': the old password is wrong"
	HORCRUX_TOKEN=$tok run -0 "$CLI" user passwd --password-stdin <<<$'dave-new-pass-1\ndave-newer-pass-2'
	assert_output "changed the password of 'dave'"
	run -0 curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" -H 'Content-Type: application/json' \
		-d '{"username":"dave","password":"dave-newer-pass-2"}' http://localhost/api/auth/login
	assert_output 200
	too_many user passwd dave x --password-stdin
}

@test "user sessions / logout: no args, valid, too many; a self passwd keeps the stored session" {
	local t1 t2 id
	cli_mkuser erin
	for v in t1 t2; do
		printf -v "$v" '%s' "$(curl -s --unix-socket "$SOCK" -H 'Content-Type: application/json' \
			-d '{"username":"erin","password":"pw-erin-123"}' http://localhost/api/auth/login | jq -r .token)"
	done
	# root@local has no sessions of its own: no NAME is the daemon's error.
	run -1 --separate-stderr "$CLI" user sessions
	[[ $stderr == "horcrux-cli: cannot list the sessions of 'root@local': "* ]]
	run -0 "$CLI" user sessions erin
	assert_line --index 0 --regexp '^ID +CURRENT +STARTED +EXPIRES +RENEWED +FROM$'
	assert_equal "$(grep -cE '^[0-9a-f]{16} +no ' <<<"$output")" 2
	HORCRUX_TOKEN=$t1 run -0 "$CLI" user sessions
	assert_equal "$(grep -cE '^[0-9a-f]{16} +yes ' <<<"$output")" 1
	too_many user sessions erin x
	needs user logout NAME
	too_many user logout erin x y
	id=$(HORCRUX_TOKEN=$t1 "$CLI" -o json user sessions | jq -r '.[] | select(.current | not) | .id')
	run -0 "$CLI" user logout erin "$id"
	assert_output "ended session '$id' of 'erin'"
	HORCRUX_TOKEN=$t2 run -3 "$CLI" whoami
	HORCRUX_TOKEN=$t1 run -0 "$CLI" whoami
	run -1 --separate-stderr "$CLI" user logout erin "$id"
	assert_equal "$stderr" "horcrux-cli: cannot end session '$id' of 'erin': no such session"
	run -0 "$CLI" user logout erin
	assert_output "ended every session of 'erin'"
	HORCRUX_TOKEN=$t1 run -3 "$CLI" whoami
	# A self passwd from a stored session ends the others, keeps this one.
	run -0 "$CLI" login erin --password-stdin <<<"pw-erin-123"
	run -0 "$CLI" user passwd --password-stdin <<<$'pw-erin-123\npw-erin-456'
	assert_output "changed the password of 'erin'"
	run -0 "$CLI" whoami
	assert_line --regexp '^User: +erin@local$'
	run -0 "$CLI" logout
}

@test "role list / show / add / delete: no args, valid, too many" {
	run -0 "$CLI" role list
	assert_line --regexp '^VmUser +/vms +built-in +VmPowerMgmt,VmConsole,VmAudit$'
	too_many role list x
	needs role show NAME
	run -0 "$CLI" role show Auditor
	assert_line --regexp '^Scope: +/$'
	assert_line --regexp '^Privileges: +VmAudit DatastoreAudit SysAudit$'
	too_many role show Auditor x
	run -1 --separate-stderr "$CLI" role show Nope
	assert_equal "$stderr" "horcrux-cli: cannot show role 'Nope': no such role"

	needs role add "NAME PRIV..."
	run -2 --separate-stderr "$CLI" role add Operator
	[[ $stderr == *"needs NAME PRIV..."* ]]
	run -0 "$CLI" role add Operator VmPowerMgmt VmAudit
	assert_output "added role 'Operator'"
	run -0 "$CLI" -o json role show Operator
	assert_equal "$(jq -c '[.privileges, .builtin]' <<<"$output")" '[["VmPowerMgmt","VmAudit"],false]'
	run -1 --separate-stderr "$CLI" role add Bad NoSuchPriv
	assert_equal "$stderr" "horcrux-cli: cannot add role 'Bad': unknown privilege 'NoSuchPriv'"

	needs role delete NAME
	too_many role delete Operator x
	run -1 --separate-stderr "$CLI" role delete Administrator
	assert_equal "$stderr" "horcrux-cli: cannot delete role 'Administrator': built-in roles cannot be deleted"
	run -0 "$CLI" role delete Operator
	assert_output "deleted role 'Operator'"
}

@test "role modify: no args, valid, too many; a role in use changes for its live sessions" {
	local tok
	needs role modify "NAME PRIV..."
	run -2 --separate-stderr "$CLI" role modify Watcher
	[[ $stderr == *"needs NAME PRIV..."* ]]
	cli_mkuser wanda
	run -0 "$CLI" role add Watcher vmaudit
	run -0 "$CLI" acl grant /nodes Watcher wanda
	tok=$(curl -s --unix-socket "$SOCK" -H 'Content-Type: application/json' \
		-d '{"username":"wanda","password":"pw-wanda-123"}' http://localhost/api/auth/login | jq -r .token)
	HORCRUX_TOKEN=$tok run -4 --separate-stderr "$CLI" node status
	assert_equal "$stderr" "horcrux-cli: cannot read the node status: insufficient privileges: SysAudit on /nodes needed"
	# Any case is the privilege; the role is held, and changes at once.
	run -0 "$CLI" role modify Watcher SYSAUDIT --append
	assert_output "modified role 'Watcher': VmAudit SysAudit"
	wait_sample
	HORCRUX_TOKEN=$tok run -0 "$CLI" node status
	run -0 "$CLI" role modify Watcher VmAudit
	assert_output "modified role 'Watcher': VmAudit"
	HORCRUX_TOKEN=$tok run -4 "$CLI" node status
	# PRIV... takes any number: an unknown flag is the usage error.
	run -2 --separate-stderr "$CLI" role modify Watcher VmAudit --frob
	[[ $stderr == *"unknown option '--frob'"* ]]
	run -1 --separate-stderr "$CLI" role modify VmUser VmAudit
	assert_equal "$stderr" "horcrux-cli: cannot modify role 'VmUser': built-in roles cannot be modified"
	run -1 --separate-stderr "$CLI" role modify Nope VmAudit
	assert_equal "$stderr" "horcrux-cli: cannot modify role 'Nope': role 'Nope' not found"
	# A near miss names the closest privilege; it is never sent.
	run -1 --separate-stderr "$CLI" role modify Watcher VmAudt
	assert_equal "$stderr" "horcrux-cli: cannot modify role 'Watcher': unknown privilege 'VmAudt'; did you mean 'VmAudit'?"
	run -1 --separate-stderr "$CLI" role add Typo vmpowermgnt
	assert_equal "$stderr" "horcrux-cli: cannot add role 'Typo': unknown privilege 'vmpowermgnt'; did you mean 'VmPowerMgmt'?"
	run -0 "$CLI" -o json role show Watcher
	assert_equal "$(jq -c .privileges <<<"$output")" '["VmAudit"]'
	run -0 "$CLI" -o json audit --action role.modify --limit 1
	assert_equal "$(jq -c '[.[] | [.actor, .action, .target]]' <<<"$output")" '[["root@local","role.modify","Watcher"]]'
	run -0 "$CLI" user delete wanda
	run -0 "$CLI" role delete Watcher
}

@test "user permissions: no args, valid, too many; a path inherits; user show lists ACL entries" {
	cli_mkuser pat --role Auditor
	run -0 "$CLI" acl grant /vms/web-1 VmUser pat
	run -0 "$CLI" acl grant /vms VmAdmin pat --no-propagate
	needs user permissions "NAME [PATH]"
	run -0 "$CLI" user permissions pat
	assert_line --index 0 --regexp '^PATH +PRIVILEGES$'
	assert_line --regexp '^/ +VmAudit,DatastoreAudit,SysAudit$'
	assert_line --regexp '^/vms +VmAllocate,VmConfig,VmPowerMgmt,VmMigrate,VmSnapshot,VmBackup,VmConsole,VmAudit$'
	assert_line --regexp '^/vms/web-1 +VmPowerMgmt,VmConsole,VmAudit$'
	# web-2 holds no entry: /vms does not propagate, so / decides.
	run -0 "$CLI" user permissions pat /vms/web-2
	assert_equal "${#lines[@]}" 2
	assert_line --index 1 --regexp '^/vms/web-2 +VmAudit,DatastoreAudit,SysAudit$'
	run -0 "$CLI" -o json user permissions pat /vms/web-1
	assert_equal "$(jq -c . <<<"$output")" '{"/vms/web-1":["VmPowerMgmt","VmConsole","VmAudit"]}'
	too_many user permissions pat / x
	run -1 --separate-stderr "$CLI" user permissions pat /nowhere
	assert_equal "$stderr" "horcrux-cli: cannot show the permissions of 'pat': 'path' is not an ACL path"
	run -1 --separate-stderr "$CLI" user permissions nobody
	assert_equal "$stderr" "horcrux-cli: cannot show the permissions of 'nobody': no such user"
	# A session sees its own; another's needs SysAudit on /access.
	cli_mkuser quinn --role VmUser
	tok=$(curl -s --unix-socket "$SOCK" -H 'Content-Type: application/json' \
		-d '{"username":"quinn","password":"pw-quinn-123"}' http://localhost/api/auth/login | jq -r .token)
	HORCRUX_TOKEN=$tok run -0 "$CLI" user permissions quinn /vms/db-1
	assert_line --index 1 --regexp '^/vms/db-1 +VmPowerMgmt,VmConsole,VmAudit$'
	HORCRUX_TOKEN=$tok run -4 --separate-stderr "$CLI" user permissions pat
	assert_equal "$stderr" "horcrux-cli: cannot show the permissions of 'pat': insufficient privileges: SysAudit on /access needed"
	run -0 "$CLI" user show pat
	assert_line --regexp '^User: +pat@local$'
	assert_line --regexp '^ACL: +/vms VmAdmin \(no propagate\), /vms/web-1 VmUser$'
	run -0 "$CLI" -o json user show pat
	assert_equal "$(jq -c '[.acl[] | [.path, .role, .userid, .propagate]]' <<<"$output")" \
		'[["/vms","VmAdmin","pat@local",false],["/vms/web-1","VmUser","pat@local",true]]'
	run -0 "$CLI" user show quinn
	assert_line --regexp '^ACL: +-$'
	run -0 "$CLI" user delete pat
	run -0 "$CLI" user delete quinn
}

@test "session list / revoke: no args, valid, too many; --all; root@local has none and says so" {
	local t1 t2 id
	cli_mkuser sid
	cli_mkuser tess
	t1=$(curl -s --unix-socket "$SOCK" -H 'Content-Type: application/json' \
		-d '{"username":"sid","password":"pw-sid-123"}' http://localhost/api/auth/login | jq -r .token)
	t2=$(curl -s --unix-socket "$SOCK" -H 'Content-Type: application/json' \
		-d '{"username":"tess","password":"pw-tess-123"}' http://localhost/api/auth/login | jq -r .token)
	run -1 --separate-stderr "$CLI" session list
	assert_equal "$stderr" "horcrux-cli: cannot list the sessions of 'root@local': root@local, the Unix socket's local trust, logs in with no session: name a user, or list every user's with 'session list --all'"
	HORCRUX_TOKEN=$t1 run -0 "$CLI" session list
	assert_line --index 0 --regexp '^USER +ID +CURRENT +STARTED +EXPIRES +FROM$'
	assert_equal "${#lines[@]}" 2
	assert_line --index 1 --regexp '^sid@local +[0-9a-f]{16} +yes '
	run -0 "$CLI" session list tess
	assert_line --index 1 --regexp '^tess@local +[0-9a-f]{16} +no '
	run -0 "$CLI" session list --all
	[ "$(grep -c '^sid@local ' <<<"$output")" -ge 1 ]
	[ "$(grep -c '^tess@local ' <<<"$output")" -ge 1 ]
	# A user without UserModify sees their own, not everyone's.
	HORCRUX_TOKEN=$t1 run -4 --separate-stderr "$CLI" session list --all
	too_many session list tess x
	run -2 --separate-stderr "$CLI" session list tess --all
	[[ $stderr == *"USER and --all contradict each other"* ]]
	needs session revoke "[USER] ID"
	too_many session revoke tess x y
	id=$("$CLI" -o json session list tess | jq -r '.[0].id')
	run -0 "$CLI" session revoke tess "$id"
	assert_output "ended session '$id' of 'tess'"
	HORCRUX_TOKEN=$t2 run -3 "$CLI" whoami
	# One's own, by id alone.
	id=$(HORCRUX_TOKEN=$t1 "$CLI" -o json session list | jq -r '.[0].id')
	HORCRUX_TOKEN=$t1 run -0 "$CLI" session revoke "$id"
	assert_output "ended session '$id' of 'sid'"
	HORCRUX_TOKEN=$t1 run -3 "$CLI" whoami
	run -1 --separate-stderr "$CLI" session revoke "$id"
	[[ $stderr == "horcrux-cli: cannot end a session of 'root@local': root@local, the Unix socket's local trust, "* ]]
	run -0 "$CLI" user delete sid
	run -0 "$CLI" user delete tess
}

@test "audit: valid with the API's filters, too many, bad --since and --limit" {
	cli_mkuser audra
	curl -s -o /dev/null --unix-socket "$SOCK" -H 'Content-Type: application/json' \
		-d '{"username":"audra","password":"wrong-password"}' http://localhost/api/auth/login
	run -0 "$CLI" audit
	assert_line --index 0 --regexp '^TIME +ACTOR +ACTION +TARGET +DETAIL +FROM$'
	assert_line --regexp '^[0-9T:.-]+Z +root@local +user\.add +audra@local +local +unix$'
	run -0 "$CLI" audit --user audra --action login.failed --since 10m --limit 5
	assert_equal "${#lines[@]}" 2
	assert_line --index 1 --regexp '^[0-9T:.-]+Z +audra@local +login\.failed +audra@local '
	run -0 "$CLI" -o json audit --since "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)"
	assert_equal "$output" "[]"
	run -0 "$CLI" -o json audit --limit 1
	assert_equal "$(jq length <<<"$output")" 1
	too_many audit x
	run -2 --separate-stderr "$CLI" audit --since yesterday
	[[ $stderr == *"--since: 'yesterday' is no time"* ]]
	run -2 --separate-stderr "$CLI" audit --limit 0
	[[ $stderr == *"--limit: '0' is not a number from 1 to 1000"* ]]
	run -0 "$CLI" user delete audra
}

@test "root@local's API keys: none, and how to make a user that has some" {
	run -1 --separate-stderr "$CLI" apikey list
	assert_equal "$stderr" "horcrux-cli: cannot list the API keys of 'root@local': root@local, the Unix socket's local trust, has no API keys: keys belong to users; make one with 'horcrux-cli user add NAME --role ROLE', then 'horcrux-cli apikey create NAME --name KEYNAME'"
	run -1 --separate-stderr "$CLI" apikey create --name k
	[[ $stderr == "horcrux-cli: cannot create an API key for 'root@local': root@local, the Unix socket's local trust, can have no API keys: "* ]]
	# --name is required, and the usage says so.
	run -2 --separate-stderr "$CLI" apikey create alice
	assert_equal "$stderr" "horcrux-cli: 'apikey create' needs --name NAME
usage: horcrux-cli apikey create [USER] --name NAME [--expires DAYS] [--role ROLE]..."
}

@test "privilege list: valid, too many; every privilege with its roles" {
	run -0 "$CLI" privilege list
	assert_equal "${#lines[@]}" 16
	assert_line --regexp '^VmPowerMgmt +Administrator,VmAdmin,VmUser$'
	assert_line --regexp '^UserModify +Administrator$'
	too_many privilege list x
}

@test "acl list / grant / revoke: no args, valid, too many" {
	run -0 "$CLI" acl list
	assert_output --regexp '^PATH +ROLE +USER +PROPAGATE'
	too_many acl list / x
	needs acl grant "PATH ROLE USER"
	run -2 --separate-stderr "$CLI" acl grant /vms/web-1 VmUser
	[[ $stderr == *"needs PATH ROLE USER"* ]]
	run -0 "$CLI" acl grant /vms/web-1 VmUser alice
	assert_output "granted VmUser on /vms/web-1 to 'alice'"
	run -0 "$CLI" acl grant /vms VmAdmin alice --no-propagate
	too_many acl grant /vms/web-1 VmUser alice x
	run -0 "$CLI" acl list /vms/web-1
	assert_equal "${#lines[@]}" 2
	assert_line --index 1 --regexp '^/vms/web-1 +VmUser +alice@local +yes$'
	run -0 "$CLI" acl list /vms
	assert_line --regexp '^/vms +VmAdmin +alice@local +no$'
	run -0 "$CLI" acl list /access
	assert_equal "${#lines[@]}" 1
	run -1 --separate-stderr "$CLI" acl grant /nowhere VmUser alice
	[[ $stderr == "horcrux-cli: cannot grant VmUser on /nowhere to 'alice': "* ]]
	needs acl revoke "PATH ROLE USER"
	too_many acl revoke /vms VmAdmin alice x
	run -0 "$CLI" acl revoke /vms VmAdmin alice
	assert_output "revoked VmAdmin on /vms from 'alice'"
	run -1 --separate-stderr "$CLI" acl revoke /vms VmAdmin alice
	[[ $stderr == "horcrux-cli: cannot revoke VmAdmin on /vms from 'alice': "* ]]
}

@test "apikey list / create / revoke: no args, valid, too many; shown once" {
	# root@local has no keys of its own: no USER is an error from the daemon.
	run -1 --separate-stderr "$CLI" apikey list
	[[ $stderr == "horcrux-cli: cannot list the API keys of 'root@local': "* ]]
	run -0 "$CLI" apikey list alice
	assert_output --regexp '^KEYID +NAME +ROLES +EXPIRES +CREATED +LAST-USED$'
	too_many apikey list alice x
	run -2 --separate-stderr "$CLI" apikey create alice
	[[ $stderr == *"'apikey create' needs --name NAME"* ]]
	run -2 --separate-stderr "$CLI" apikey create alice --name k --expires 0
	[[ $stderr == *"--expires: '0' is not a number of days"* ]]
	run -0 --separate-stderr "$CLI" apikey create alice --name ci --expires 7 --role Auditor
	assert_line --regexp '^Key: +hx_[0-9a-f]{16}_'
	assert_line --regexp '^User: +alice@local$'
	assert_line --regexp '^Roles: +Auditor$'
	assert_equal "$stderr" "horcrux-cli: warning: store this key now: it cannot be shown again"
	key=$(sed -n 's/^Key: *//p' <<<"$output")
	kid=$(sed -n 's/^Key ID: *//p' <<<"$output")
	too_many apikey create alice x --name k
	# The key works, and is never shown again.
	HORCRUX_API_KEY=$key run -0 "$CLI" whoami
	assert_line --regexp '^User: +alice@local$'
	run -0 "$CLI" -o json apikey list alice
	assert_equal "$(jq -r '.[0].key_id' <<<"$output")" "$kid"
	[[ $output != *"$key"* ]]
	needs apikey revoke "[USER] KEYID"
	too_many apikey revoke alice "$kid" x
	run -0 "$CLI" apikey revoke alice "$kid"
	assert_output "revoked API key '$kid' of 'alice'"
	HORCRUX_API_KEY=$key run -3 --separate-stderr "$CLI" whoami
	assert_equal "$stderr" "horcrux-cli: cannot find out who you are: invalid, expired or revoked API key"
	run -1 "$CLI" apikey revoke alice "$kid"
}

@test "vm list / show / power actions: no args, valid, too many" {
	run -0 "$CLI" vm list
	assert_line --regexp '^web-1 +web-1 +running +2 +4.0G +vm$'
	assert_line --regexp '^dns-1 +dns-1 +running +1 +512M +container$'
	assert_equal "${#lines[@]}" 11
	# In name order.
	assert_equal "$(printf '%s\n' "${lines[@]:1}" | awk '{print $1}' | tr '\n' ' ')" \
		"backup-1 build-1 cache-1 ci-runner db-1 dns-1 metrics-1 web-1 web-2 win-test "
	too_many vm list x
	needs vm show VM
	run -0 "$CLI" vm show db-1
	assert_line --regexp '^vCPUs: +4$'
	# Each disk and NIC with its counters and rates (db-1 runs).
	assert_line --regexp '^vda +virtio +[0-9.]+[KMGTP] +[0-9.]+[KMGTP] +[0-9.]+[BKMG] +[0-9.]+[BKMG] +/var/lib/libvirt/images/db-1.qcow2$'
	assert_line --regexp '^testnet1 +52:54:00:[0-9a-f:]+ +virtio +[0-9.]+[KMGTP] +[0-9.]+[KMGTP] +[0-9.]+[BKMG] +[0-9.]+[BKMG] +internal$'
	too_many vm show db-1 x
	run -1 --separate-stderr "$CLI" vm show no-such-vm
	[[ $stderr == "horcrux-cli: cannot show VM 'no-such-vm': "* ]]
	local a
	for a in start shutdown stop reboot suspend resume; do
		needs vm "$a" VM
		too_many vm "$a" web-2 x
	done
	run -0 "$CLI" vm suspend web-2
	assert_output "suspend 'web-2': done"
	run -1 --separate-stderr "$CLI" vm suspend web-2
	assert_equal "$stderr" "horcrux-cli: cannot suspend VM 'web-2': cannot suspend 'web-2': it is paused"
	run -0 "$CLI" vm resume web-2
	run -0 "$CLI" vm start backup-1 -o json
	assert_equal "$(jq -c . <<<"$output")" '{"vm_id":"backup-1","action":"start","result":"done"}'
	run -0 "$CLI" vm stop backup-1
	assert_output "stop 'backup-1': done"
}

@test "node status: valid, too many" {
	wait_sample
	run -0 "$CLI" node status
	assert_line --regexp "^Host: +$(hostname)$"
	assert_line --regexp '^CPU: +[0-9.]+% of [0-9]+ cores$'
	assert_line --regexp '^/ +'
	too_many node status x
}

@test "events: valid (default topics, --count, json), unknown topic, bad --count" {
	# timeout: a broken --count must fail the test, not hang the suite.
	run -0 --separate-stderr timeout 20 "$CLI" events --count 1
	assert_output --regexp '^[0-9T:.-]+Z Notification level=info title=Connected message=WebSocket connection established for user root@local$'
	run -0 --separate-stderr timeout 20 "$CLI" events --count 2 vm:metrics -o json
	assert_equal "$(jq -r .type <<<"$output" | tr '\n' ' ')" "Notification VmMetrics "
	run -2 --separate-stderr "$CLI" events vm:status no:such
	[[ $stderr == "horcrux-cli: unknown topic 'no:such'; topics: node:metrics, vm:metrics,"* ]] || { echo "$stderr"; false; }
	run -2 --separate-stderr "$CLI" events --count x
	[[ $stderr == *"--count: 'x' is not a positive number"* ]]
}

@test "help / version / quit: no args, valid, too many" {
	run -0 "$CLI" help
	assert_line --partial "acl grant PATH ROLE USER [--no-propagate]"
	run -0 "$CLI" help apikey create
	assert_line --partial "--expires DAYS"
	assert_line --partial "apikey create [USER] --name NAME [--expires DAYS]"
	run -0 "$CLI" help us
	assert_line "user: users"
	too_many help user add x
	run -2 --separate-stderr "$CLI" help frob
	[[ $stderr == *"no command 'frob'"* ]]
	run -0 "$CLI" version
	assert_output "horcrux-cli 0.1.0
horcruxd 0.1.0 at unix:$SOCK"
	too_many version x
	run -0 "$CLI" quit
	assert_output ""
	too_many quit x
	too_many exit x
}

@test "login / logout / whoami: no args, valid, too many; token in client.conf 0600" {
	# No USER and no terminal to ask on.
	run -2 --separate-stderr setsid -w "$CLI" login </dev/null
	[[ $stderr == *"'login' needs USER when there is no terminal"* ]]
	too_many login alice x
	run -3 --separate-stderr "$CLI" login alice --password-stdin <<<"wrong-password"
	assert_equal "$stderr" "horcrux-cli: cannot log in as 'alice': invalid username or password"
	run -0 "$CLI" login alice --password-stdin <<<"pw-alice-123"
	assert_output --regexp "^logged in as alice \(roles: Auditor\) until .*; token and server 'unix:$SOCK' stored in $XDG_CONFIG_HOME/horcrux/client.conf$"
	assert_equal "$(stat -c %a "$XDG_CONFIG_HOME/horcrux/client.conf")" 600
	grep -q '^token = ey' "$XDG_CONFIG_HOME/horcrux/client.conf"
	run -0 "$CLI" whoami
	assert_line --regexp '^User: +alice@local$'
	assert_line --regexp '^Authenticated by: +session$'
	# An Auditor may look but not touch: 403 is exit 4.
	run -4 --separate-stderr "$CLI" user add eve --password-stdin <<<"eve-password-1"
	assert_equal "$stderr" "horcrux-cli: cannot add user 'eve': insufficient privileges: UserModify on /access needed"
	too_many logout x
	tok=$(sed -n 's/^token = //p' "$XDG_CONFIG_HOME/horcrux/client.conf")
	run -0 "$CLI" logout
	assert_output "logged out"
	run -1 grep -q '^token' "$XDG_CONFIG_HOME/horcrux/client.conf"
	# The session is gone on the daemon too.
	HORCRUX_TOKEN=$tok run -3 "$CLI" whoami
	run -1 --separate-stderr "$CLI" logout
	[[ $stderr == "horcrux-cli: cannot log out: there is no session"* ]]
	run -0 "$CLI" whoami
	assert_line --regexp '^User: +root@local$'
}

@test "login stores the server with the token: later commands need no -c; unreachable names where the server came from" {
	local conf=$BATS_TEST_TMPDIR/cfg/horcrux/client.conf
	export XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/cfg
	unset HORCRUX_SERVER
	# A relative socket path, as `make run` prints it, is stored absolute.
	cd "$(dirname "$SOCK")"
	run -0 "$CLI" -c "unix:./$(basename "$SOCK")" login alice --password-stdin <<<"pw-alice-123"
	assert_output --regexp "; token and server 'unix:$SOCK' stored in $conf$"
	grep -qx "server = unix:$SOCK" "$conf"
	cd /
	run -0 "$CLI" whoami
	assert_line --regexp '^User: +alice@local$'
	assert_line --regexp '^Authenticated by: +session$'
	run -0 "$CLI" logout
	grep -qx "server = unix:$SOCK" "$conf"
	# Unreachable: the message says where the server came from.
	printf 'server = unix:%s\n' "$BATS_TEST_TMPDIR/none.sock" >"$conf"
	run -1 --separate-stderr "$CLI" whoami
	assert_equal "$stderr" "horcrux-cli: cannot find out who you are: cannot connect to 'unix:$BATS_TEST_TMPDIR/none.sock': No such file or directory (server from $conf)"
	HORCRUX_SERVER="unix:$BATS_TEST_TMPDIR/gone.sock" run -1 --separate-stderr "$CLI" whoami
	assert_equal "$stderr" "horcrux-cli: cannot find out who you are: cannot connect to 'unix:$BATS_TEST_TMPDIR/gone.sock': No such file or directory (server from \$HORCRUX_SERVER)"
	HORCRUX_SERVER="unix:$BATS_TEST_TMPDIR/gone.sock" run -1 --separate-stderr "$CLI" events
	assert_equal "$stderr" "horcrux-cli: cannot stream events: cannot connect to 'unix:$BATS_TEST_TMPDIR/gone.sock': No such file or directory (server from \$HORCRUX_SERVER)"
	rm "$conf"
	run -1 --separate-stderr "$CLI" whoami
	[[ $stderr == "horcrux-cli: cannot find out who you are: cannot connect to 'unix:/run/horcrux/horcruxd.sock': "*" (the default server; choose one with -c, \$HORCRUX_SERVER or \`server\` in $conf)" ]] ||
		fail "$stderr"
}

@test "exit codes: 1 when the daemon is unreachable" {
	run -1 --separate-stderr "$CLI" -c "unix:$BATS_TEST_TMPDIR/none.sock" user list
	[[ $stderr == "horcrux-cli: cannot list the users: cannot connect to 'unix:$BATS_TEST_TMPDIR/none.sock': No such file or directory" ]] ||
		{ echo "$stderr"; false; }
}

@test "-o json: every listing parses with jq and is the API's objects" {
	wait_sample
	local cmd
	for cmd in "user list" "role list" "privilege list" "acl list" \
	    "apikey list alice" "vm list" "whoami" "node status" \
	    "user show alice" "role show VmUser" "vm show web-1" "version"; do
		# shellcheck disable=SC2086
		run -0 --separate-stderr "$CLI" -o json $cmd
		jq -e . >/dev/null <<<"$output" || { echo "$cmd: $output"; return 1; }
	done
	run -0 "$CLI" user list --output json
	assert_equal "$(jq -c '.[] | select(.username=="alice") | [.realm,.roles]' <<<"$output")" '["local",["Auditor"]]'
	api=$(curl -s --unix-socket "$SOCK" http://localhost/api/roles)
	run -0 "$CLI" -o json role list
	assert_equal "$(jq -c . <<<"$output")" "$(jq -c . <<<"$api")"
	run -0 "$CLI" -o json vm list
	assert_equal "$(jq length <<<"$output")" 10
}

@test "scripts on stdin: comments, quotes, status of the last failure, -e stops" {
	run -1 --separate-stderr "$CLI" <<'EOF'
# a comment, then an empty line

role show VmUser
user show "no such user"
role show 'Auditor'   # trailing comment
EOF
	assert_line --regexp '^Role: +VmUser$'
	assert_line --regexp '^Role: +Auditor$'
	assert_equal "$stderr" "horcrux-cli: cannot show user 'no such user': no such user"
	run -1 --separate-stderr "$CLI" -e <<'EOF'
role show VmUser
user show nobody
role show Auditor
EOF
	assert_line --regexp '^Role: +VmUser$'
	refute_line --regexp '^Role: +Auditor$'
	# A usage error in a script is exit 2; the password line is read in turn.
	run -2 --separate-stderr "$CLI" -e <<'EOF'
user add scripted --password-stdin
scripted-pass-1
user show
role show Auditor
EOF
	assert_line "added user 'scripted'"
	refute_line --regexp '^Role:'
	run -0 "$CLI" user delete scripted
}

@test "colour: a bold header on a terminal, none with NO_COLOR or a pipe" {
	run -0 script -qec "$CLI role list" /dev/null
	[[ $output == *$'\e[1mROLE'* ]]
	NO_COLOR=1 run -0 script -qec "$CLI role list" /dev/null
	[[ $output != *$'\e['* ]]
	run -0 "$CLI" role list
	[[ $output != *$'\e['* ]]
}

@test "docs: every command of the table is in the man page, --help and completion" {
	local man words top sub f
	man=$(groff -mdoc -Tascii -rLL=4000n -P-cbou "$HX_REPO/man/horcrux-cli.1" 2>/dev/null)
	run -0 groff -mdoc -Tascii -ww -z "$HX_REPO/man/horcrux-cli.1"
	assert_output ""
	run -0 "$CLI" --help
	help=$output
	mapfile -t top < <("$CLI" __complete '')
	[ "${#top[@]}" -ge 14 ]
	for c in "${top[@]}"; do
		mapfile -t sub < <("$CLI" __complete "$c" '')
		if [ "$(printf '%s\n' "${sub[@]}" | grep -c .)" -gt 0 ] &&
		    [ "$c" != help ] && [ "$c" != events ] && [ "$c" != login ] &&
		    [ "$c" != history ]; then
			names=()
			for s in "${sub[@]}"; do names+=("$c $s"); done
		else
			names=("$c")
		fi
		for n in "${names[@]}"; do
			grep -qE "(^|[ ,])${n}( |,|$)" <<<"$man" || { echo "'$n' not in horcrux-cli.1"; return 1; }
			grep -qE "^  ${n}( |$)" <<<"$help" || { echo "'$n' not in --help"; return 1; }
			# Its flags, from the table via completion, are documented.
			mapfile -t flags < <("$CLI" __complete $n --)
			for f in "${flags[@]}"; do
				grep -qe "$f" <<<"$man" || { echo "'$n $f' not in horcrux-cli.1"; return 1; }
			done
		done
	done
	# The global options, from their table: every spelling is an item of
	# the page's option list and a line of --help.
	local key flag short kind dflt spell=()
	while IFS=$'\t' read -r key flag short kind dflt; do
		[ "$flag" = - ] || spell+=("--$flag")
		[ "$short" = - ] || spell+=("-$short")
	done < <("$CLI" --dump-options)
	# Fewer means --dump-options broke, not that all is well.
	[ "${#spell[@]}" -ge 10 ] || { echo "--dump-options: ${spell[*]}"; return 1; }
	for f in "${spell[@]}"; do
		grep -qE -- "^     (-[a-zA-Z]( [a-z]+)?, )?$f( |,|$)" <<<"$man" || { echo "'$f' not an option of horcrux-cli.1"; return 1; }
		grep -qE -- "^  (-[a-zA-Z], )?$f( |,|$)" <<<"$help" || { echo "'$f' not in --help"; return 1; }
	done
	for f in "EXIT STATUS" EXAMPLES ENVIRONMENT HORCRUX_API_KEY XDG_STATE_HOME; do
		grep -qe "$f" <<<"$man" || { echo "'$f' not in horcrux-cli.1"; return 1; }
	done
}
