# fish completion for horcruxd(8). The flags follow the option table in
# horcruxd/options.c (see `horcruxd --dump-options`); tests/0150-docs.bats
# checks that none is missing here.

# horcruxd takes no arguments besides its options.
complete -c horcruxd -f

complete -c horcruxd -s c -l config -r -F -d 'Read settings from FILE'
complete -c horcruxd -s f -l foreground -d 'Stay in the foreground and log to stderr'
complete -c horcruxd -s h -l help -d 'Show the help and exit'
complete -c horcruxd -s V -l version -d 'Show the version and exit'
complete -c horcruxd -l dump-protocol -d 'Print the WebSocket protocol as JSON and exit'
complete -c horcruxd -l listen -x -d 'TCP address for HTTP and WebSocket (HOST:PORT)'
complete -c horcruxd -l socket -r -F -d 'Unix socket (local trust for uid 0 and our uid)'
complete -c horcruxd -l data-dir -x -a '(__fish_complete_directories (commandline -ct))' -d 'State directory'
complete -c horcruxd -l web-root -x -a '(__fish_complete_directories (commandline -ct))' -d 'Static files served at /'
complete -c horcruxd -l node-interval -x -d 'Host sampling period (seconds)'
complete -c horcruxd -l disks -x -a 'auto (__fish_complete_directories (commandline -ct))' -d 'Mount point to report, or auto (repeatable)'
complete -c horcruxd -l heartbeat-interval -x -d 'Ping event and WebSocket ping period (seconds)'
complete -c horcruxd -l subscription-timeout -x -d 'Close a client that has not subscribed by then (seconds)'
complete -c horcruxd -l peer-timeout -x -d 'Drop a client silent for this long (seconds)'
complete -c horcruxd -l max-clients -x -d 'Most WebSocket clients at once'
complete -c horcruxd -l login-queue -x -d 'Most logins waiting or being checked at once'
complete -c horcruxd -l login-threads -x -d 'Threads that check login passwords'
complete -c horcruxd -l audit-retention-days -x -d 'Delete audit records older than this (days)'
complete -c horcruxd -l max-clients-per-user -x -d 'Most WebSocket clients of one user'
complete -c horcruxd -l max-clients-per-address -x -d 'Most WebSocket clients from one TCP address'
complete -c horcruxd -l reserved-unix-clients -x -d 'WebSocket slots only the Unix socket may use'
complete -c horcruxd -l max-connections-per-address -x -d 'Most open TCP connections from one address'
complete -c horcruxd -l request-timeout -x -d 'Close a connection with no complete request by then (seconds)'
complete -c horcruxd -l log-level -x -a 'error warning info debug' -d 'Most detailed messages to log'
complete -c horcruxd -l pam-service -x -d 'PAM service for the pam realm'
complete -c horcruxd -l max-api-keys-per-user -x -d 'Most API keys one user may hold'
complete -c horcruxd -l allowed-hosts -x -d 'Extra Host header name to accept (repeatable)'
complete -c horcruxd -l allowed-origins -x -d 'Extra Origin for cookie WebSockets (repeatable)'
complete -c horcruxd -l metrics-public -d 'Serve GET /metrics without credentials'
complete -c horcruxd -l libvirt-uri -x -a 'qemu:///system qemu:///session lxc:///system test:///default' -d 'Libvirt connection to watch (repeatable)'
complete -c horcruxd -l vm-interval -x -d 'VM sampling period (seconds)'
