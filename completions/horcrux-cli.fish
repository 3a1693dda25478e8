# fish completion for horcrux-cli(1). The candidates come from the program:
# `horcrux-cli __complete WORDS... CUR` answers from the same command table
# and live names (users, roles, VMs, key ids, history series, alert rules
# and alert ids) as the shell's Tab.

function __horcrux_cli_complete
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    $words[1] __complete $words[2..-1] "$cur" 2>/dev/null
end

complete -c horcrux-cli -f -n 'not string match -q -- --api-key-file (commandline -opc)[-1]' -a '(__horcrux_cli_complete)'
# A key file is a file name.
complete -c horcrux-cli -l api-key-file -r -F -d 'Read the API key from FILE'
