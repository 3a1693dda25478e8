# fish completion for horcrux-cli(1). The candidates come from the program:
# `horcrux-cli __complete WORDS... CUR` answers from the same command table
# and live names (users, roles, VMs, key ids, history series, alert rules
# and alert ids) as the shell's Tab.

function __horcrux_cli_complete
    set -l words (commandline -opc)
    set -l cur (commandline -ct)
    $words[1] __complete $words[2..-1] "$cur" 2>/dev/null
end

# True when the word being completed is a path: admin backup's FILE,
# --config FILE or --data-dir DIR.
function __horcrux_cli_wants_path
    set -l words (commandline -opc)
    contains -- $words[-1] --config --data-dir; and return 0
    string match -q -- '-*' (commandline -ct); and return 1
    string match -q -- '* admin backup*' "$words"
end

complete -c horcrux-cli -f -n 'not string match -q -- --api-key-file (commandline -opc)[-1]; and not __horcrux_cli_wants_path' -a '(__horcrux_cli_complete)'
complete -c horcrux-cli -F -n __horcrux_cli_wants_path
# A key file is a file name.
complete -c horcrux-cli -l api-key-file -r -F -d 'Read the API key from FILE'
