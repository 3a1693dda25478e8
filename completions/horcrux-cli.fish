# fish completion for horcrux-cli(1). The candidates come from the program:
# `horcrux-cli __complete WORDS... CUR` answers from the same command table
# and live names (users, roles, VMs, key ids) as the shell's Tab.

function __horcrux_cli_complete
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    $words[1] __complete $words[2..-1] "$cur" 2>/dev/null
end

complete -c horcrux-cli -f -a '(__horcrux_cli_complete)'
