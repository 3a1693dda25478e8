#!/usr/bin/env bats
# horcrux-cli alert against a real horcruxd on the demo node: sqlite's
# triple for every alert command; rules added from flags and from a
# JSON file, listed as a table and as the API's JSON, modified field by
# field (the others stay), deleted; the daemon's 422 naming the field as
# one line and status 1, 403 as status 4 for an Auditor; a rule that
# certainly fires (web-1's cpu_usage >= 0 for 0 s) seen in `alert list`,
# shown, acknowledged with a comment (who and when), then resolved when
# the rule is deleted; the backtest's episodes; rule names and alert ids
# offered by __complete and the readline shell.
#
# Nothing sleeps blindly: waits poll `alert list -o json` or the pane.

load helpers/common
load helpers/api
load helpers/cli
load helpers/tmux

setup_file() {
	cli_start_daemon --node-interval 0.2 --history-flush 1 || return 1
	cli_mkuser aud --role Auditor || return 1
	AUD_KEY=$(cli_key aud --name k) || return 1
	export AUD_KEY
}

teardown_file() {
	stop_daemon
}

teardown() {
	tmux -L "hxa-$$-$BATS_TEST_NUMBER" kill-server 2>/dev/null || true
}

# wait_alert RULE STATE: until `alert list --state all -o json` holds an
# alert of RULE in STATE (10 s); prints its id.
wait_alert() {
	local i out id
	for i in $(seq 1 200); do
		out=$("$CLI" -o json alert list --state all 2>/dev/null) &&
			id=$(jq -er --arg r "$1" --arg s "$2" \
				'[.alerts[] | select(.rule_name == $r and .state == $s)][0].alert_id' \
				<<<"$out") && { echo "$id"; return 0; }
		sleep 0.05
	done
	echo "no $2 alert of rule $1: $out" >&2
	return 1
}

@test "alert commands: no args, valid, too many" {
	run -2 --separate-stderr "$CLI" alert
	[[ $stderr == *"'alert' needs a subcommand: list, show, ack, rule, test"* ]]
	run -2 --separate-stderr "$CLI" alert rule
	[[ $stderr == *"'alert rule' needs a subcommand: list, add, modify, delete"* ]]
	run -2 --separate-stderr "$CLI" alert rule frob
	[[ $stderr == *"unknown command 'alert rule frob'; 'alert rule' has list, add, modify, delete"* ]]
	run -0 "$CLI" alert list
	assert_line --index 0 --regexp '^ID +SEVERITY +RULE +TARGET +STATE +VALUE +SINCE +ACKED BY$'
	run -0 "$CLI" alert rule list
	# The shipped defaults (DESIGN §9).
	assert_line --regexp '^node-cpu +node:cpu_usage +> 90 for 300s, clear 85 +warning +yes '
	for cmd in "alert list x" "alert rule list x" "alert show a b" "alert ack a b" \
		"alert rule add a b" "alert rule modify a b" "alert rule delete a b" "alert test a b"; do
		run -2 --separate-stderr "$CLI" $cmd
		[[ $stderr == *"too many arguments"* ]] || { echo "$cmd: $stderr"; return 1; }
		[[ $stderr == *"usage: horcrux-cli ${cmd%% [abx]*}"* ]] || { echo "$cmd: $stderr"; return 1; }
	done
	for cmd in "alert show" "alert ack" "alert rule add" "alert rule modify" "alert rule delete" "alert test"; do
		run -2 --separate-stderr "$CLI" $cmd
		[[ $stderr == *"'$cmd' needs"* ]] || { echo "$cmd: $stderr"; return 1; }
	done
	run -2 --separate-stderr "$CLI" alert list --state sometimes
	[[ $stderr == *"--state: 'sometimes' is not firing, resolved or all"* ]]
	run -2 --separate-stderr "$CLI" alert rule add x --threshold ten
	[[ $stderr == *"--threshold: 'ten' is not a number"* ]]
	run -2 --separate-stderr "$CLI" alert rule add x --for soon
	[[ $stderr == *"--for: 'soon' is not a duration"* ]]
	run -2 --separate-stderr "$CLI" alert rule add x --series node:cpu_usage --status-of 'vm:*'
	[[ $stderr == *"not both"* ]]
	run -0 "$CLI" help alert rule
	assert_line --partial "alert rule add NAME [--series GLOB] [--op OP]"
}

@test "alert rule add, list, modify, delete; 422 names the field; 403 is status 4" {
	run -0 "$CLI" alert rule add hot --series 'vm:web-*:cpu_usage' --op '>=' \
		--threshold 80 --clear 70 --for 5m --severity critical --notify ops --notify pager
	assert_output "added alert rule 'hot'"
	run -0 "$CLI" -o json alert rule list
	jq -e '.rules[] | select(.name == "hot") |
		.series == "vm:web-*:cpu_usage" and .op == ">=" and .threshold == 80 and
		.clear_threshold == 70 and .for_seconds == 300 and .severity == "critical" and
		.notify == ["ops","pager"] and .enabled == true' <<<"$output"
	run -0 "$CLI" alert rule list
	assert_line --regexp '^hot +vm:web-\*:cpu_usage +>= 80 for 300s, clear 70 +critical +yes +ops,pager +-$'
	# modify: the fields given change, the others stay.
	run -0 "$CLI" alert rule modify hot --threshold 95 --clear none --enabled no --silence-until 2h
	assert_output "modified alert rule 'hot'"
	run -0 "$CLI" -o json alert rule list
	jq -e '.rules[] | select(.name == "hot") |
		.threshold == 95 and .clear_threshold == null and .enabled == false and
		.for_seconds == 300 and .severity == "critical" and .notify == ["ops","pager"] and
		(.silence_until | type) == "string"' <<<"$output"
	# Into a status rule and back from a file.
	run -0 "$CLI" alert rule modify hot --status-of 'vm:*' --equals crashed
	run -0 "$CLI" -o json alert rule list
	jq -e '.rules[] | select(.name == "hot") | .status_of == "vm:*" and .equals == "crashed" and
		(has("series") | not)' <<<"$output"
	printf '{"series":"node:memory_usage","op":"<","threshold":5}' >"$BATS_TEST_TMPDIR/r.json"
	run -0 "$CLI" alert rule modify hot --file "$BATS_TEST_TMPDIR/r.json" --severity info
	run -0 "$CLI" -o json alert rule list
	jq -e '.rules[] | select(.name == "hot") | .series == "node:memory_usage" and .op == "<" and
		.threshold == 5 and .severity == "info" and (has("status_of") | not)' <<<"$output"
	# add from standard input.
	run -0 "$CLI" alert rule add piped --file - <<<'{"series":"node:swap_usage","op":">","threshold":50}'
	run -0 "$CLI" -o json alert rule list
	jq -e '.rules[] | select(.name == "piped") | .series == "node:swap_usage"' <<<"$output"
	# 422: the daemon's message names the field; one line, status 1.
	run -1 --separate-stderr "$CLI" alert rule add bad --series node:no_such --op '>' --threshold 1
	assert_equal "$output" ""
	assert_equal "$stderr" "horcrux-cli: cannot add alert rule 'bad': 'series': names no known series (node:FIELD, vm:NAME:FIELD, ...)"
	run -1 --separate-stderr "$CLI" alert rule add bad --series node:cpu_usage --op '>' --threshold 90 --clear 95
	[[ $stderr == "horcrux-cli: cannot add alert rule 'bad': 'clear_threshold': is on the wrong side of the threshold" ]]
	run -1 --separate-stderr "$CLI" alert rule add bad --series node:cpu_usage --op '=~' --threshold 1
	[[ $stderr == *"'op': must be one of > >= < <="* ]]
	run -1 --separate-stderr "$CLI" alert rule modify nosuch --threshold 1
	[[ $stderr == "horcrux-cli: cannot modify alert rule 'nosuch': no such alert rule" ]]
	# An Auditor reads the rules but may not change them.
	HORCRUX_API_KEY=$AUD_KEY run -0 "$CLI" alert rule list
	assert_line --regexp '^hot '
	HORCRUX_API_KEY=$AUD_KEY run -4 --separate-stderr "$CLI" alert rule delete hot
	[[ $stderr == "horcrux-cli: cannot delete alert rule 'hot': "* ]]
	run -0 "$CLI" alert rule delete hot
	assert_output "deleted alert rule 'hot'"
	run -0 "$CLI" alert rule delete piped
	run -1 --separate-stderr "$CLI" alert rule delete hot
	[[ $stderr == "horcrux-cli: cannot delete alert rule 'hot': "* ]]
	run -0 "$CLI" -o json alert rule list
	jq -e '[.rules[].name] | index("hot") == null' <<<"$output"
}

@test "a firing alert: listed, shown, acknowledged, resolved" {
	run -0 "$CLI" alert rule add always --series vm:web-1:cpu_usage --op '>=' --threshold 0 --for 0 --severity critical
	id=$(wait_alert always firing)
	[[ $id =~ ^[0-9a-f]+$ ]]
	run -0 "$CLI" alert list
	assert_line --regexp "^$id +critical +always +vm:web-1 +firing +[0-9.]+ +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} +-$"
	# The table's SINCE is the local time of started_at.
	started=$("$CLI" -o json alert list | jq -r --arg id "$id" '.alerts[] | select(.alert_id == $id) | .started_at')
	since=$(TZ=$TZ date -d "$started" '+%Y-%m-%d %H:%M:%S')
	assert_line --regexp "^$id .* $since +-$"
	run -0 "$CLI" -o json alert list
	jq -e --arg id "$id" '[.alerts[] | select(.alert_id == $id)] | length == 1' <<<"$output"
	run -0 "$CLI" alert show "$id"
	assert_line --regexp "^ID: +$id$"
	assert_line --regexp '^Rule: +always$'
	assert_line --regexp '^Target: +vm:web-1$'
	assert_line --regexp '^State: +firing$'
	assert_line --regexp '^Acked by: +-$'
	run -1 --separate-stderr "$CLI" alert show 0000
	assert_equal "$stderr" "horcrux-cli: cannot show alert '0000': alert not found"
	# An Auditor sees it but may not acknowledge it: status 4, the daemon's reason.
	HORCRUX_API_KEY=$AUD_KEY run -0 "$CLI" alert list
	assert_line --regexp "^$id "
	HORCRUX_API_KEY=$AUD_KEY run -4 --separate-stderr "$CLI" alert ack "$id"
	[[ $stderr == "horcrux-cli: cannot acknowledge alert '$id': insufficient privileges: VmPowerMgmt on the VM needed" ]]
	run -1 --separate-stderr "$CLI" alert ack 0000
	[[ $stderr == "horcrux-cli: cannot acknowledge alert '0000': alert not found" ]]
	run -0 "$CLI" alert ack "$id" --comment "looking into it"
	assert_output "acknowledged alert '$id'"
	run -0 "$CLI" -o json alert show "$id"
	jq -e '.acked_by == "root@local" and .comment == "looking into it" and (.acked_at | type) == "string"' <<<"$output"
	run -0 "$CLI" alert list
	assert_line --regexp "^$id +critical +always +vm:web-1 +firing .* root@local$"
	# Deleting the rule resolves its alerts.
	run -0 "$CLI" alert rule delete always
	[ "$(wait_alert always resolved)" = "$id" ]
	run -0 "$CLI" -o json alert list
	jq -e --arg id "$id" '[.alerts[] | select(.alert_id == $id)] | length == 0' <<<"$output"
	run -0 "$CLI" alert list --state resolved
	assert_line --regexp "^$id +critical +always +vm:web-1 +resolved "
	# -o csv: the table's header and rows for Python's csv module.
	run -0 "$CLI" -o csv alert list --state all
	run -0 python3 -c '
import csv, sys
rows = list(csv.reader(sys.stdin.read().split("\r\n")[:-1]))
assert rows[0] == ["ID","SEVERITY","RULE","TARGET","STATE","VALUE","SINCE","ACKED BY"], rows[0]
r = [x for x in rows[1:] if x[0] == sys.argv[1]]
assert len(r) == 1 and r[0][2:5] == ["always","vm:web-1","resolved"] and r[0][7] == "root@local", r
print("ok")' "$id" <<<"$output"
	assert_output ok
	run -0 "$CLI" alert rule list -o csv
	assert_line --index 0 $'NAME,ON,CONDITION,SEVERITY,ENABLED,NOTIFY,SILENCED UNTIL\r'
	assert_line $'node-cpu,node:cpu_usage,"> 90 for 300s, clear 85",warning,yes,,\r'
	run -2 --separate-stderr "$CLI" alert show "$id" -o csv
	[[ $stderr == *"'alert show' has no csv output: use table or json"* ]]
}

@test "alert test: the episodes a rule would have fired" {
	# History holds node:cpu_usage points; >= 0 holds at each of them.
	run -0 "$CLI" -o json alert test '{"name":"bt","series":"node:cpu_usage","op":">=","threshold":0}' --since 1h
	jq -e '.episodes | length == 1' <<<"$output"
	jq -e '.episodes[0].target == "node:'"$(hostname)"'" and (.episodes[0].peak | type) == "number"' <<<"$output"
	run -0 "$CLI" alert test '{"name":"bt","series":"node:cpu_usage","op":">=","threshold":0}' --since 1h
	assert_line --index 0 --regexp '^1 episode from [0-9-]+ [0-9:]+ to [0-9-]+ [0-9:]+ \((raw|minute|hour) points\)$'
	assert_line --index 1 --regexp '^TARGET +START +END +PEAK$'
	assert_line --index 2 --regexp "^node:$(hostname) +[0-9-]+ [0-9:]+ +\(firing\) +[0-9.]+$"
	# Never above 1000 %: no episodes. A stored rule by name.
	run -0 "$CLI" alert rule add never --series node:cpu_usage --op '>' --threshold 1000
	run -0 "$CLI" alert test never --since 1h
	assert_line --index 0 --regexp '^0 episodes from '
	run -0 "$CLI" alert rule delete never
	run -1 --separate-stderr "$CLI" alert test '{"name":"bt","series":"node:nope","op":">","threshold":1}'
	[[ $stderr == "horcrux-cli: cannot test the rule: 'series': "* ]]
	run -2 --separate-stderr "$CLI" alert test '{"name":'
	[[ $stderr == *"the rule is not JSON"* ]]
}

@test "completion offers rule names and alert ids" {
	run -0 "$CLI" alert rule add comp-rule --series vm:web-2:cpu_usage --op '>=' --threshold 0
	id=$(wait_alert comp-rule firing)
	run -0 "$CLI" __complete alert rule modify comp-
	assert_output "comp-rule"
	run -0 "$CLI" __complete alert rule delete ''
	assert_line comp-rule
	assert_line node-cpu
	run -0 "$CLI" __complete alert test comp
	assert_output "comp-rule"
	run -0 "$CLI" __complete alert ack "${id:0:6}"
	assert_output "$id"
	run -0 "$CLI" __complete alert show ''
	assert_line "$id"
	run -0 "$CLI" __complete alert ''
	assert_output "list
show
ack
rule
test"
	run -0 "$CLI" __complete alert rule add x --
	assert_line --series
	assert_line --status-of
	assert_line --file
	# --notify offers the notification targets.
	run -0 "$CLI" notify target add comp-hook --url http://127.0.0.1:9/x \
		--secret-stdin <<<"comp-s3cret"
	run -0 "$CLI" __complete alert rule add x --notify comp-
	assert_output comp-hook
	run -0 "$CLI" notify target delete comp-hook
	# bash, zsh and fish ask __complete: the same names.
	run -0 env PATH="$HX_BUILD:$PATH" bash -c '
		source "$1"
		c() { COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _horcrux_cli; echo "${COMPREPLY[*]}"; }
		c horcrux-cli alert rule modify comp-
		c horcrux-cli alert ack "$2"
	' _ "$HX_REPO/completions/horcrux-cli.bash" "${id:0:6}"
	assert_line --index 0 comp-rule
	assert_line --index 1 "$id"
	run -0 env PATH="$HX_BUILD:$PATH" fish -c "source $HX_REPO/completions/horcrux-cli.fish; complete -C'horcrux-cli alert rule delete comp-'"
	assert_output "comp-rule"
	# The readline shell completes the same.
	TMUX_L=hxa-$$-$BATS_TEST_NUMBER TMUX_S=cli
	tmux -L "$TMUX_L" new-session -d -s cli -x 150 -y 40 "$CLI; sleep 60"
	wait_pane '^root@local@.+>$'
	keys 'alert rule del' Tab
	wait_pane '> alert rule delete$'
	keys 'comp-' Tab
	wait_pane '> alert rule delete comp-rule$'
	keys C-u 'alert ack ' "${id:0:6}" Tab
	wait_pane "> alert ack $id$"
	run -0 "$CLI" alert rule delete comp-rule
}
