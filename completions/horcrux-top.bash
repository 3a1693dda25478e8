# bash completion for horcrux-top(1)                   -*- shell-script -*-
#
# The flags follow the option table in horcrux-top/horcrux-top.c (see
# `horcrux-top --dump-options`); tests/0710-top-docs.bats checks that none
# is missing here. Plain bash: needs neither bash-completion nor its helpers.

_horcrux_top()
{
	local cur prev
	local opts="-c --connect --api-key-file -d --delay -b --batch
		-n --iterations --json -C --no-color -U --ascii -h --help
		-V --version --spark-step"

	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=""
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	if [[ $cur == "=" && $prev == --* ]]; then
		cur=""
	elif [[ $prev == "=" ]] && ((COMP_CWORD > 1)); then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	elif [[ $cur == --*=* ]]; then
		prev=${cur%%=*}
		cur=${cur#*=}
	fi

	case $prev in
	-c | --connect)
		COMPREPLY=($(compgen -W "unix:/run/horcrux/horcruxd.sock
			ws://localhost:8006 wss:// http:// https://" -- "$cur"))
		return 0
		;;
	--api-key-file)
		COMPREPLY=($(compgen -f -- "$cur"))
		return 0
		;;
	-d | --delay | -n | --iterations | --spark-step)
		return 0
		;;
	esac
	COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	return 0
}
complete -F _horcrux_top horcrux-top
