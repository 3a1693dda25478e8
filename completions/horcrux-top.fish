# fish completion for horcrux-top(1). The flags follow the option table in
# horcrux-top/horcrux-top.c (see `horcrux-top --dump-options`);
# tests/0710-top-docs.bats checks that none is missing here.

# horcrux-top takes no arguments besides its options.
complete -c horcrux-top -f

complete -c horcrux-top -s c -l connect -x -a 'unix:/run/horcrux/horcruxd.sock ws://localhost:8006' -d 'Server (unix:PATH, ws(s)://, http(s)://); repeat for several hosts'
complete -c horcrux-top -l api-key-file -r -F -d 'Read the API key from FILE'
complete -c horcrux-top -s d -l delay -x -d 'Redraw at most every SECS seconds'
complete -c horcrux-top -s b -l batch -d 'Plain text snapshots, no curses'
complete -c horcrux-top -s n -l iterations -x -d 'Exit after N updates'
complete -c horcrux-top -l json -d 'One JSON object per update'
complete -c horcrux-top -s C -l no-color -d 'No colours'
complete -c horcrux-top -s U -l ascii -d 'ASCII only'
complete -c horcrux-top -l spark-step -x -d 'One sparkline cell per SECS seconds'
complete -c horcrux-top -s h -l help -d 'Show the help and exit'
complete -c horcrux-top -s V -l version -d 'Show the version and exit'
