#!/usr/bin/env bats
# horcrux-top's alerts against a real horcruxd on the demo node, in a
# 120x40 tmux: the header counts the firing alerts by severity in words
# (right on the first frame, from GET /api/alerts, and live from the
# alerts topic as they fire and resolve); key a opens the alert list
# (severity word, rule, target, value, since, acked by); A acknowledges
# with a typed comment, and for an Auditor the daemon's 403 is shown.
#
# Nothing sleeps blindly: waits poll the pane or the API.

load helpers/common
load helpers/api
load helpers/cli
load helpers/top

setup_file() {
	cli_start_daemon || return 1
	cli_mkuser aud --role Auditor || return 1
	AUD_KEY=$(cli_key aud --name k) || return 1
	export AUD_KEY
}

teardown_file() {
	stop_daemon
}

teardown() {
	top_stop
	local r
	for r in crit-web1 warn-web2; do
		"$CLI" alert rule delete "$r" >/dev/null 2>&1 || true
	done
}

# fire RULE VM SEVERITY: a rule that certainly fires (cpu_usage >= 0, for
# 0 s) on VM; waits until the API lists it firing, prints its id.
fire() {
	"$CLI" alert rule add "$1" --series "vm:$2:cpu_usage" --op '>=' \
		--threshold 0 --for 0 --severity "$3" >/dev/null || return 1
	local i out id
	for i in $(seq 1 200); do
		out=$("$CLI" -o json alert list) &&
			id=$(jq -er --arg r "$1" '[.alerts[] | select(.rule_name == $r)][0].alert_id' <<<"$out") &&
			{ echo "$id"; return 0; }
		sleep 0.05
	done
	echo "rule $1 never fired: $out" >&2
	return 1
}

@test "the header counts firing alerts by severity, live, in words" {
	top_start
	wait_pane 'web-1'
	# No alert firing: no word.
	[[ $(pane | head -1) != *ALERTS* ]]
	fire crit-web1 web-1 critical >/dev/null
	wait_pane '^ .*ALERTS 1 CRIT( |$)'
	fire warn-web2 web-2 warning >/dev/null
	wait_pane '^ .*ALERTS 1 CRIT 1 WARN( |$)'
	# Resolved (its rule deleted): the count goes down, then away.
	"$CLI" alert rule delete crit-web1 >/dev/null
	wait_pane '^ .*ALERTS 1 WARN( |$)'
	"$CLI" alert rule delete warn-web2 >/dev/null
	wait_pane_gone 'ALERTS'
}

@test "the first frame counts the alerts already firing (GET /api/alerts)" {
	fire crit-web1 web-1 critical >/dev/null
	# The WebSocket replays no alerts on subscribe: only the fetch can
	# make this line.
	top_start
	wait_pane 'web-1'
	[[ $(pane | head -1) == *"ALERTS 1 CRIT"* ]] || { pane; return 1; }
}

@test "key a lists the alerts; A acknowledges with a comment" {
	id=$(fire crit-web1 web-1 critical)
	# Wide enough for every key on the bar.
	W=220 top_start
	wait_pane 'ALERTS 1 CRIT'
	[[ $(pane | tail -1) == *"a Alerts"* ]] || { pane; return 1; }
	keys a
	wait_pane '^ SEV +RULE +TARGET +VALUE +SINCE +ACKED BY'
	started=$("$CLI" -o json alert show "$id" | jq -r .started_at)
	since=$(date -d "$started" '+%Y-%m-%d %H:%M:%S')
	wait_pane "^ CRIT +crit-web1 +vm:web-1 +[0-9]+\.[0-9]{2} +$since +-$"
	[[ $(pane | tail -1) == *"A Acknowledge"* ]] || { pane; return 1; }
	keys A
	wait_pane 'Acknowledge, comment: _'
	keys 'on it' Enter
	wait_pane "acknowledge $id: done"
	wait_pane "^ CRIT +crit-web1 +vm:web-1 .* root@local$"
	run -0 "$CLI" -o json alert show "$id"
	jq -e '.acked_by == "root@local" and .comment == "on it"' <<<"$output"
	# Esc leaves the alert view.
	keys Escape
	wait_pane '^ NAME'
}

@test "an Auditor sees the alerts but the daemon refuses the ack, shown on screen" {
	id=$(fire crit-web1 web-1 critical)
	TOP_ENV="HORCRUX_API_KEY=$AUD_KEY" top_start
	wait_pane 'ALERTS 1 CRIT'
	keys a
	wait_pane '^ CRIT +crit-web1 +vm:web-1 .* -$'
	keys A
	wait_pane 'Acknowledge, comment: _'
	keys x Enter
	wait_pane "acknowledge $id: insufficient privileges: VmPowerMgmt on the VM needed"
	run -0 "$CLI" -o json alert show "$id"
	jq -e '.acked_by == null' <<<"$output"
}
