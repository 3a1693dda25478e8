# bash completion for horcrux-cli(1)                    -*- shell-script -*-
#
# Asks the program itself: `horcrux-cli __complete WORDS... CUR` prints the
# candidates one per line, from the same command table and live names
# (users, roles, VMs, key ids, history series, alert rules and ids) as
# the interactive shell's Tab. So there is no list here to keep in step. Plain bash: needs neither
# bash-completion nor its helpers.

_horcrux_cli()
{
	local cur prog line i strip
	local -a words cands

	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prog=${COMP_WORDS[0]:-horcrux-cli}
	if [[ -n ${COMP_LINE-} ]]; then
		# Split the line ourselves so "vm:status" and "--x=y" stay one
		# word whatever COMP_WORDBREAKS says.
		line=${COMP_LINE:0:${COMP_POINT:-${#COMP_LINE}}}
		read -ra words <<<"$line"
		[[ $line == *[[:space:]] || ${#words[@]} -eq 0 ]] && words+=("")
		words=("${words[@]:1}")
	else
		words=("${COMP_WORDS[@]:1:COMP_CWORD}")
	fi
	((${#words[@]} > 0)) || words=("")
	# A key file is a file name: the shell knows those best.
	if ((${#words[@]} > 1)) && [[ ${words[${#words[@]} - 2]} == --api-key-file ]]; then
		COMPREPLY=($(compgen -f -- "$cur"))
		return 0
	fi
	# admin backup's FILE and --config FILE are file names, --data-dir a
	# directory.
	if ((${#words[@]} > 1)); then
		case ${words[${#words[@]} - 2]} in
		--data-dir)
			COMPREPLY=($(compgen -d -- "$cur"))
			return 0
			;;
		--config)
			COMPREPLY=($(compgen -f -- "$cur"))
			return 0
			;;
		esac
		for ((i = 0; i + 2 < ${#words[@]}; i++)); do
			if [[ ${words[i]} == admin && ${words[i + 1]} == backup && $cur != -* ]]; then
				COMPREPLY=($(compgen -f -- "$cur"))
				return 0
			fi
		done
	fi
	mapfile -t cands < <("$prog" __complete "${words[@]}" 2>/dev/null)
	# bash replaces only what follows the last word break (a ':' in
	# "vm:st"): drop the part of each candidate it keeps.
	strip=${words[${#words[@]} - 1]}
	strip=${strip:0:${#strip}-${#cur}}
	for i in "${!cands[@]}"; do
		[[ -n $strip && $cur != "$strip"* ]] && cands[i]=${cands[i]#"$strip"}
	done
	COMPREPLY=("${cands[@]}")
}

complete -F _horcrux_cli horcrux-cli
