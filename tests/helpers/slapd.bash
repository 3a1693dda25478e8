# A real OpenLDAP slapd (Debian's slapd and ldap-utils) for the LDAP realm
# tests, started as a normal process: its own slapd.conf, database, ports
# (ldap:// and ldaps://) and test CA under a directory, loaded from a
# small LDIF with slapadd before it starts (users, a group by member, a
# group by memberUid, an unmapped group, a service account). Load it after
# helpers/common.
#
# slapd_start DIR: sets SLAPD_PID, LDAP_PORT, LDAPS_PORT, LDAP_CA (the CA
# of its certificate), LDAP_OTHER_CA (a CA that signed nothing of it),
# LDAP_SVC_PWFILE (the service account's password in a 0600 file) and
# LDAP_BASE. Ready when ldapsearch answers on both ports (polled).
# slapd_stop: SIGTERM and reap. ldap_admin_modify LDIF-TEXT: ldapmodify as
# the rootdn. ldap_realm_args: horcruxd flags for this directory over
# StartTLS.

LDAP_BASE=dc=example,dc=org
LDAP_ROOT_DN=cn=admin,$LDAP_BASE
LDAP_ROOT_PW=root-secret-1
LDAP_SVC_DN=cn=horcrux,ou=services,$LDAP_BASE
LDAP_MAP="cn=admins,ou=groups,$LDAP_BASE=Administrator;cn=ops,ou=groups,$LDAP_BASE=VmUser;cn=ops,ou=groups,$LDAP_BASE=Auditor"

# slapd_ca DIR NAME: a CA key and self-signed certificate DIR/NAME.{key,pem}.
slapd_ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$1/$2.key" \
		-out "$1/$2.pem" -days 2 -subj "/CN=$2" \
		-addext basicConstraints=critical,CA:TRUE \
		-addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}

slapd_ldif() {
	cat <<LDIF
dn: $LDAP_BASE
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=people,$LDAP_BASE
objectClass: organizationalUnit
ou: people

dn: ou=groups,$LDAP_BASE
objectClass: organizationalUnit
ou: groups

dn: ou=services,$LDAP_BASE
objectClass: organizationalUnit
ou: services

dn: $LDAP_SVC_DN
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: horcrux
userPassword: svc-secret-1

LDIF
	local u
	for u in ada ben cyd dora alice eve; do
		cat <<LDIF
dn: uid=$u,ou=people,$LDAP_BASE
objectClass: inetOrgPerson
uid: $u
cn: $u
sn: $u
mail: $u@example.org
userPassword: $u-dir-pass

LDIF
	done
	cat <<LDIF
dn: cn=admins,ou=groups,$LDAP_BASE
objectClass: groupOfNames
cn: admins
member: uid=ada,ou=people,$LDAP_BASE
member: uid=dora,ou=people,$LDAP_BASE
member: uid=alice,ou=people,$LDAP_BASE
member: uid=eve,ou=people,$LDAP_BASE

dn: cn=ops,ou=groups,$LDAP_BASE
objectClass: posixGroup
cn: ops
gidNumber: 5000
memberUid: ben
memberUid: dora

dn: cn=others,ou=groups,$LDAP_BASE
objectClass: groupOfNames
cn: others
member: uid=cyd,ou=people,$LDAP_BASE
LDIF
}

slapd_start() {
	local d=$1 i
	mkdir -p "$d/db"
	slapd_ca "$d" ca
	slapd_ca "$d" other
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$d/server.key" \
		-out "$d/server.csr" -subj /CN=127.0.0.1 2>/dev/null
	openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" \
		-CAcreateserial -out "$d/server.pem" -days 2 \
		-extfile <(printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n') 2>/dev/null
	LDAP_CA=$d/ca.pem
	LDAP_OTHER_CA=$d/other.pem
	LDAP_SVC_PWFILE=$d/svc.pw
	install -m 0600 /dev/null "$LDAP_SVC_PWFILE"
	echo svc-secret-1 >"$LDAP_SVC_PWFILE"
	cat >"$d/slapd.conf" <<CONF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/nis.schema
include /etc/ldap/schema/inetorgperson.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile $d/slapd.pid
TLSCACertificateFile $d/ca.pem
TLSCertificateFile $d/server.pem
TLSCertificateKeyFile $d/server.key
database mdb
maxsize 16777216
suffix "$LDAP_BASE"
rootdn "$LDAP_ROOT_DN"
rootpw $LDAP_ROOT_PW
directory $d/db
access to attrs=userPassword
	by anonymous auth
	by * none
access to *
	by dn.exact="$LDAP_SVC_DN" read
	by self read
	by * none
CONF
	slapd_ldif >"$d/data.ldif"
	slapadd -q -f "$d/slapd.conf" -l "$d/data.ldif" >"$d/slapadd.log" 2>&1 || {
		cat "$d/slapadd.log" >&2
		return 1
	}
	LDAP_PORT=$(free_port)
	LDAPS_PORT=$(free_port)
	slapd -f "$d/slapd.conf" -d 0 \
		-h "ldap://127.0.0.1:$LDAP_PORT/ ldaps://127.0.0.1:$LDAPS_PORT/" \
		>"$d/slapd.log" 2>&1 3>&- &
	SLAPD_PID=$!
	for i in $(seq 1 200); do
		if LDAPTLS_CACERT=$LDAP_CA ldapsearch -x -LLL -H "ldaps://127.0.0.1:$LDAPS_PORT" \
			-D "$LDAP_ROOT_DN" -w "$LDAP_ROOT_PW" -b "$LDAP_BASE" -s base dn >/dev/null 2>&1; then
			return 0
		fi
		kill -0 "$SLAPD_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "slapd did not start:" >&2
	cat "$d/slapd.log" >&2
	return 1
}

slapd_stop() {
	[ -n "${SLAPD_PID:-}" ] || return 0
	kill -TERM "$SLAPD_PID" 2>/dev/null || true
	wait "$SLAPD_PID" 2>/dev/null || true
	SLAPD_PID=
}

ldap_admin_modify() {
	ldapmodify -x -H "ldap://127.0.0.1:$LDAP_PORT" -D "$LDAP_ROOT_DN" \
		-w "$LDAP_ROOT_PW" <<<"$1" >/dev/null
}

# ldap_realm_args [URL]: horcruxd flags for this directory, by default
# over ldap:// with StartTLS and the test CA.
ldap_realm_args() {
	local url=${1:-ldap://127.0.0.1:$LDAP_PORT}
	echo --ldap-url "$url"
	[[ $url == ldap://* ]] && echo --ldap-starttls
	echo --ldap-ca-file "$LDAP_CA" --ldap-bind-dn "$LDAP_SVC_DN" \
		--ldap-bind-password-file "$LDAP_SVC_PWFILE" \
		--ldap-user-base "ou=people,$LDAP_BASE" \
		--ldap-group-base "ou=groups,$LDAP_BASE"
}
