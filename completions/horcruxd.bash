# bash completion for horcruxd(8)                      -*- shell-script -*-
#
# The flags follow the option table in horcruxd/options.c (see
# `horcruxd --dump-options`); tests/0150-docs.bats checks that none is
# missing here. Plain bash: needs neither bash-completion nor its helpers.

_horcruxd()
{
	local cur prev i
	local prefix=""
	local opts="-c --config -f --foreground -h --help -V --version
		--dump-protocol
		--listen --socket --data-dir --web-root --node-interval
		--libvirt-uri --vm-interval
		--disks --heartbeat-interval --subscription-timeout
		--peer-timeout --max-clients --max-clients-per-user
		--max-clients-per-address --reserved-unix-clients
		--max-connections-per-address --request-timeout
		--login-queue --login-threads --audit-retention-days
		--log-level --log-format --pam-service --max-api-keys-per-user
		--allowed-hosts --allowed-origins --metrics-public
		--history --history-raw-retention --history-minute-retention
		--history-hour-retention --history-max-bytes --history-flush
		--notify-ca-file --notify-retry-base --tls-cert --tls-key
		--allow-plain-http --no-allow-plain-http
		--ldap-realm --ldap-url --ldap-starttls --no-ldap-starttls
		--ldap-ca-file --ldap-bind-dn --ldap-bind-password-file
		--ldap-user-base --ldap-user-filter --ldap-group-base
		--ldap-group-filter --ldap-group-role-map --ldap-timeout
		--oidc-realm
		--oidc-issuer --oidc-client-id --oidc-client-secret-file
		--oidc-client-auth --oidc-ca-file --oidc-redirect-uri
		--oidc-scopes --oidc-role-claim --oidc-role-map
		--oidc-username-claim --oidc-display"

	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=""
	((COMP_CWORD > 0)) && prev=${COMP_WORDS[COMP_CWORD - 1]}

	# --flag=value: with '=' in COMP_WORDBREAKS (the default) bash splits
	# it into "--flag" "=" "value"; without, it is one word.
	if [[ $cur == "=" && $prev == --* ]]; then
		cur=""
	elif [[ $prev == "=" ]] && ((COMP_CWORD > 1)); then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	elif [[ $cur == --*=* ]]; then
		prev=${cur%%=*}
		prefix="$prev="
		cur=${cur#*=}
	fi

	case $prev in
	-c | --config | --socket | --notify-ca-file | --tls-cert | --tls-key | \
	    --ldap-ca-file | --ldap-bind-password-file | \
	    --oidc-client-secret-file | --oidc-ca-file)
		compopt -o filenames 2>/dev/null || :
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
		;;
	--data-dir | --web-root)
		compopt -o filenames 2>/dev/null || :
		mapfile -t COMPREPLY < <(compgen -d -- "$cur")
		;;
	--history)
		mapfile -t COMPREPLY < <(compgen -W "on off" -- "$cur")
		;;
	--oidc-client-auth)
		mapfile -t COMPREPLY < <(compgen -W "basic post" -- "$cur")
		;;
	--disks)
		compopt -o filenames 2>/dev/null || :
		mapfile -t COMPREPLY < <(compgen -W auto -- "$cur" || :
		    compgen -d -- "$cur")
		;;
	--log-level)
		mapfile -t COMPREPLY < <(compgen -W "error warning info debug" \
		    -- "$cur")
		;;
	--log-format)
		mapfile -t COMPREPLY < <(compgen -W "text json" -- "$cur")
		;;
	--listen | --node-interval | --heartbeat-interval | --vm-interval | \
	    --libvirt-uri | \
	    --subscription-timeout | --peer-timeout | --max-clients | \
	    --max-clients-per-user | --max-clients-per-address | \
	    --reserved-unix-clients | --max-connections-per-address | \
	    --request-timeout | --login-queue | --login-threads | \
	    --audit-retention-days | --max-api-keys-per-user | \
	    --history-raw-retention | --history-minute-retention | \
	    --history-hour-retention | --history-max-bytes | --history-flush | \
	    --ldap-realm | --ldap-url | --ldap-bind-dn | --ldap-user-base | \
	    --ldap-user-filter | --ldap-group-base | --ldap-group-filter | \
	    --ldap-group-role-map | --ldap-timeout | --oidc-realm)
		# A value nobody can guess: offer nothing.
		return 0
		;;
	*)
		if [[ -z $prefix ]]; then
			mapfile -t COMPREPLY < <(compgen -W "$opts" -- "$cur")
		fi
		return 0
		;;
	esac
	if [[ -n $prefix ]]; then
		for i in "${!COMPREPLY[@]}"; do
			COMPREPLY[i]=$prefix${COMPREPLY[i]}
		done
	fi
	return 0
}
complete -F _horcruxd horcruxd
