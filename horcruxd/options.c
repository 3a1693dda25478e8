/*
 * options.c - the horcruxd option table (DESIGN §6) and its typed view.
 *
 * Keys that later features own join this table with the code that uses
 * them, never before: an accepted key that does nothing would be a lie to
 * the operator.
 */
#include <stdlib.h>
#include <string.h>

#include "hx-log.h"
#include "hx-store.h"
#include "hx-util.h"
#include "options.h"

#ifndef HX_DATADIR
#define HX_DATADIR "/usr/local/share/horcrux"
#endif

static const char *level_choices[] = { "error", "warning", "info", "debug",
	NULL };
/* In enum hx_log_format's order. */
static const char *log_format_choices[] = { "text", "json", NULL };

static int
check_listen(const char *value, char **err)
{
	char host[256];
	int  port;

	return options_split_listen(value, host, sizeof host, &port, err);
}

static int
check_abs_path(const char *value, char **err)
{
	if (value[0] != '/') {
		*err = xasprintf("'%s' is not an absolute path", value);
		return -1;
	}
	return 0;
}

/* A mount point, or "auto": every real file system mounted at start. */
static int
check_mount(const char *value, char **err)
{
	if (strcmp(value, "auto") == 0)
		return 0;
	return check_abs_path(value, err);
}

static int
check_socket_path(const char *value, char **err)
{
	/* sun_path is 108 bytes including the NUL. */
	if (strlen(value) >= 108) {
		*err = xasprintf("'%.40s...' is longer than a unix socket "
				 "path may be (107 bytes)",
		    value);
		return -1;
	}
	return check_abs_path(value, err);
}

/* In the order oidc_client_auth's value is read back. */
static const char *client_auth_choices[] = { "basic", "post", NULL };

static int
check_oidc_issuer(const char *value, char **err)
{
	if (value[0] != '\0' && strncmp(value, "https://", 8) != 0) {
		*err = xasprintf("'%s' is not an https:// URL", value);
		return -1;
	}
	return 0;
}

static int
check_word(const char *value, char **err)
{
	const char *p;

	for (p = value; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || *p == '/' || *p == 0x7f) {
			*err = xasprintf("'%s' must be one word without '/'",
			    value);
			return -1;
		}
	}
	return 0;
}

static int
check_uri(const char *value, char **err)
{
	const char *p;

	for (p = value; *p != '\0'; p++) {
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			break;
	}
	if (*p != '\0' || strstr(value, ":") == NULL) {
		*err = xasprintf("'%s' is not a libvirt URI such as "
				 "qemu:///system",
		    value);
		return -1;
	}
	return 0;
}

static int
check_origin(const char *value, char **err)
{
	if ((strncmp(value, "http://", 7) != 0 &&
		strncmp(value, "https://", 8) != 0) ||
	    strchr(strstr(value, "//") + 2, '/') != NULL ||
	    strpbrk(value, " \t") != NULL) {
		*err = xasprintf("'%s' is not an origin like "
				 "https://host:port",
		    value);
		return -1;
	}
	return 0;
}

/* A TLS file: unset (""), or an absolute path (we may chdir to /). */
static int
check_tls_path(const char *value, char **err)
{
	if (value[0] == '\0')
		return 0;
	return check_abs_path(value, err);
}

/* A realm name: [a-z][a-z0-9_-]{0,31} (the store's rule). */
static int
check_realm(const char *value, char **err)
{
	if (!hx_store_realm_valid(value)) {
		*err = xasprintf("'%s' is not a realm name ([a-z][a-z0-9_-], "
				 "at most 32)",
		    value);
		return -1;
	}
	return 0;
}

static int
check_ldap_url(const char *value, char **err)
{
	if (value[0] != '\0' && strncmp(value, "ldap://", 7) != 0 &&
	    strncmp(value, "ldaps://", 8) != 0) {
		*err = xasprintf("'%s' is not ldap://HOST[:PORT] or "
				 "ldaps://HOST[:PORT]",
		    value);
		return -1;
	}
	return 0;
}

static const char *onoff_choices[] = { "off", "on", NULL };

/* N with a unit: s, m, h, d, w or y (365 d); into *ms. */
int
options_parse_duration(const char *value, int64_t *ms)
{
	static const struct {
		char   u;
		double ms;
	} units[] = { { 's', 1e3 }, { 'm', 60e3 }, { 'h', 3600e3 },
		{ 'd', 86400e3 }, { 'w', 7 * 86400e3 },
		{ 'y', 365 * 86400e3 } };
	char  *end;
	double v;
	size_t i;

	if (value[0] < '0' || value[0] > '9')
		return -1;
	v = strtod(value, &end);
	for (i = 0; i < HX_ARRAY_SIZE(units); i++) {
		if (end[0] == units[i].u && end[1] == '\0' && v > 0 &&
		    v * units[i].ms < 1e15) {
			*ms = (int64_t)(v * units[i].ms);
			return *ms > 0 ? 0 : -1;
		}
	}
	return -1;
}

/* N bytes, or with K, M, G or T (powers of 1024); 0 is allowed. */
int
options_parse_bytes(const char *value, int64_t *bytes)
{
	static const char *units = "KMGT";
	const char	  *u;
	char		  *end;
	double		   v, mul = 1;

	if (value[0] < '0' || value[0] > '9')
		return -1;
	v = strtod(value, &end);
	if (*end != '\0') {
		if ((u = strchr(units, *end)) == NULL || end[1] != '\0')
			return -1;
		for (; u >= units; u--)
			mul *= 1024;
	}
	if (v * mul >= 9e18)
		return -1;
	*bytes = (int64_t)(v * mul);
	return 0;
}

static int
check_duration(const char *value, char **err)
{
	int64_t ms;

	if (options_parse_duration(value, &ms) != 0) {
		*err = xasprintf("'%s' is not a duration such as 90s, 48h, "
				 "30d or 2y",
		    value);
		return -1;
	}
	return 0;
}

static int
check_bytes(const char *value, char **err)
{
	int64_t b;

	if (options_parse_bytes(value, &b) != 0) {
		*err = xasprintf("'%s' is not a size such as 0, 500M or 2G",
		    value);
		return -1;
	}
	return 0;
}

const struct hx_opt options_table[] = {
	{ "config", 'c', HX_OPT_STRING, HORCRUXD_CONFIG_FILE, 0, 0, NULL,
	    "FILE", "read settings from FILE", HX_OPT_CLI_ONLY, NULL },
	{ "foreground", 'f', HX_OPT_BOOL, "no", 0, 0, NULL, NULL,
	    "stay in the foreground and log to stderr", HX_OPT_CLI_ONLY, NULL },
	{ "help", 'h', HX_OPT_BOOL, "no", 0, 0, NULL, NULL,
	    "show this help and exit", HX_OPT_CLI_ONLY, NULL },
	{ "version", 'V', HX_OPT_BOOL, "no", 0, 0, NULL, NULL,
	    "show the version and exit", HX_OPT_CLI_ONLY, NULL },
	{ "dump_options", 0, HX_OPT_BOOL, "no", 0, 0, NULL, NULL,
	    "print the option table (key, flag, short, kind, default) and exit",
	    HX_OPT_CLI_ONLY | HX_OPT_HIDDEN, NULL },
	{ "dump_routes", 0, HX_OPT_BOOL, "no", 0, 0, NULL, NULL,
	    "print the route table (method, pattern, access) and exit",
	    HX_OPT_CLI_ONLY | HX_OPT_HIDDEN, NULL },
	{ "dump_protocol", 0, HX_OPT_BOOL, "no", 0, 0, NULL, NULL,
	    "print the WebSocket protocol (topics, events, fields) as JSON "
	    "and exit",
	    HX_OPT_CLI_ONLY | HX_OPT_HIDDEN, NULL },
	{ "replay_events", 0, HX_OPT_INT, "10000", 1, 10000, NULL, "N",
	    "discrete events the replay ring keeps for resuming clients "
	    "(tests shrink it)",
	    HX_OPT_CLI_ONLY | HX_OPT_HIDDEN, NULL },
	{ "listen", 0, HX_OPT_STRING, "127.0.0.1:8006", 0, 0, NULL, "HOST:PORT",
	    "TCP address for HTTP and WebSocket", 0, check_listen },
	{ "socket", 0, HX_OPT_STRING, "/run/horcrux/horcruxd.sock", 0, 0, NULL,
	    "PATH", "Unix socket (local trust for uid 0 and our uid)", 0,
	    check_socket_path },
	{ "data_dir", 0, HX_OPT_STRING, "/var/lib/horcrux", 0, 0, NULL, "DIR",
	    "state directory (created 0700)", 0, check_abs_path },
	{ "web_root", 0, HX_OPT_STRING, HX_DATADIR "/web", 0, 0, NULL, "DIR",
	    "static files served at /", 0, check_abs_path },
	{ "node_interval", 0, HX_OPT_SECONDS, "1", 0.1, 3600, NULL, "SECONDS",
	    "host sampling period", 0, NULL },
	{ "libvirt_uri", 0, HX_OPT_LIST, "qemu:///system", 0, 0, NULL, "URI",
	    "libvirt connection to watch (repeatable)", 0, check_uri },
	{ "vm_interval", 0, HX_OPT_SECONDS, "2", 0.1, 3600, NULL, "SECONDS",
	    "VM sampling period", 0, NULL },
	{ "disks", 0, HX_OPT_LIST, "auto", 0, 0, NULL, "MOUNT",
	    "mount point to report, or auto (repeatable)", 0, check_mount },
	{ "heartbeat_interval", 0, HX_OPT_SECONDS, "30", 0.1, 3600, NULL,
	    "SECONDS", "Ping event and WebSocket ping period", 0, NULL },
	{ "subscription_timeout", 0, HX_OPT_SECONDS, "10", 0.1, 3600, NULL,
	    "SECONDS", "close a client that has not subscribed by then", 0,
	    NULL },
	{ "peer_timeout", 0, HX_OPT_SECONDS, "75", 0.2, 7200, NULL, "SECONDS",
	    "drop a client silent for this long", 0, NULL },
	{ "max_clients", 0, HX_OPT_INT, "10000", 1, 65536, NULL, "N",
	    "most WebSocket clients at once", 0, NULL },
	{ "login_queue", 0, HX_OPT_INT, "64", 1, 4096, NULL, "N",
	    "most logins waiting or being checked at once (429 beyond)", 0,
	    NULL },
	{ "login_threads", 0, HX_OPT_INT, "2", 1, 64, NULL, "N",
	    "threads that check login passwords (Argon2, PAM)", 0, NULL },
	{ "audit_retention_days", 0, HX_OPT_INT, "90", 1, 36500, NULL, "DAYS",
	    "delete audit records older than this", 0, NULL },
	{ "max_clients_per_user", 0, HX_OPT_INT, "64", 1, 65536, NULL, "N",
	    "most WebSocket clients of one user (root@local exempt)", 0, NULL },
	{ "max_clients_per_address", 0, HX_OPT_INT, "64", 1, 65536, NULL, "N",
	    "most WebSocket clients from one TCP address", 0, NULL },
	{ "reserved_unix_clients", 0, HX_OPT_INT, "16", 0, 65535, NULL, "N",
	    "WebSocket slots of max_clients only the Unix socket may use", 0,
	    NULL },
	{ "max_connections_per_address", 0, HX_OPT_INT, "128", 1, 65536, NULL,
	    "N", "most open TCP connections from one address", 0, NULL },
	{ "request_timeout", 0, HX_OPT_INT, "10", 1, 3600, NULL, "SECONDS",
	    "close a TCP connection that sends no complete request by then", 0,
	    NULL },
	{ "log_level", 0, HX_OPT_CHOICE, "info", 0, 0, level_choices, "LEVEL",
	    "error, warning, info or debug", 0, NULL },
	{ "log_format", 0, HX_OPT_CHOICE, "text", 0, 0, log_format_choices,
	    "text|json",
	    "stderr lines as text (journal priorities under systemd) or one "
	    "JSON object each",
	    0, NULL },
	{ "pam_service", 0, HX_OPT_STRING, "horcrux", 0, 0, NULL, "NAME",
	    "PAM service for the pam realm", 0, check_word },
	{ "ldap_realm", 0, HX_OPT_STRING, "ldap", 0, 0, NULL, "NAME",
	    "name of the LDAP realm (users are NAME@REALM)", 0, check_realm },
	{ "ldap_url", 0, HX_OPT_STRING, "", 0, 0, NULL, "URL",
	    "ldap://HOST[:PORT] or ldaps://HOST[:PORT]; enables the LDAP "
	    "realm",
	    HX_OPT_EMPTY_OK, check_ldap_url },
	{ "ldap_starttls", 0, HX_OPT_BOOL, "no", 0, 0, NULL, NULL,
	    "StartTLS on an ldap:// URL (refuse the directory without it)", 0,
	    NULL },
	{ "ldap_ca_file", 0, HX_OPT_STRING, "", 0, 0, NULL, "FILE",
	    "CA certificates the directory's TLS must chain to (empty: the "
	    "system's)",
	    HX_OPT_EMPTY_OK, check_tls_path },
	{ "ldap_bind_dn", 0, HX_OPT_STRING, "", 0, 0, NULL, "DN",
	    "service account that searches users and groups (empty: "
	    "anonymous)",
	    HX_OPT_EMPTY_OK, NULL },
	{ "ldap_bind_password_file", 0, HX_OPT_STRING, "", 0, 0, NULL, "FILE",
	    "file whose first line is the service account's password",
	    HX_OPT_EMPTY_OK, check_tls_path },
	{ "ldap_user_base", 0, HX_OPT_STRING, "", 0, 0, NULL, "DN",
	    "where users are searched (subtree)", HX_OPT_EMPTY_OK, NULL },
	{ "ldap_user_filter", 0, HX_OPT_STRING, "(uid=%s)", 0, 0, NULL,
	    "FILTER", "finds a user; %s is the escaped username", 0, NULL },
	{ "ldap_group_base", 0, HX_OPT_STRING, "", 0, 0, NULL, "DN",
	    "where groups are searched (empty: ldap_user_base)",
	    HX_OPT_EMPTY_OK, NULL },
	{ "ldap_group_filter", 0, HX_OPT_STRING,
	    "(|(member=%D)(uniqueMember=%D)(memberUid=%s))", 0, 0, NULL,
	    "FILTER",
	    "finds a user's groups; %s the escaped username, %D the "
	    "escaped user DN",
	    0, NULL },
	{ "ldap_group_role_map", 0, HX_OPT_STRING, "", 0, 0, NULL,
	    "DN=ROLE;...",
	    "group DN to role, ';' between pairs; a user in no mapped group "
	    "may not log in",
	    HX_OPT_EMPTY_OK, NULL },
	{ "ldap_timeout", 0, HX_OPT_SECONDS, "5", 0.1, 60, NULL, "SECONDS",
	    "connect and operation timeout of the directory", 0, NULL },
	{ "oidc_realm", 0, HX_OPT_STRING, "oidc", 0, 0, NULL, "NAME",
	    "name of the OpenID Connect realm", 0, check_realm },
	{ "max_api_keys_per_user", 0, HX_OPT_INT, "100", 1, 100000, NULL, "N",
	    "most API keys one user may hold", 0, NULL },
	{ "allowed_hosts", 0, HX_OPT_LIST, NULL, 0, 0, NULL, "HOST",
	    "extra Host header name to accept (repeatable)", 0, check_word },
	{ "allowed_origins", 0, HX_OPT_LIST, NULL, 0, 0, NULL, "ORIGIN",
	    "extra Origin for cookie WebSockets and CORS (repeatable)", 0,
	    check_origin },
	{ "history", 0, HX_OPT_CHOICE, "on", 0, 0, onoff_choices, "on|off",
	    "keep the metrics history in DATA_DIR/metrics.db", 0, NULL },
	{ "history_raw_retention", 0, HX_OPT_STRING, "48h", 0, 0, NULL,
	    "DURATION", "keep raw samples this long", 0, check_duration },
	{ "history_minute_retention", 0, HX_OPT_STRING, "30d", 0, 0, NULL,
	    "DURATION", "keep 1-minute min/avg/max this long", 0,
	    check_duration },
	{ "history_hour_retention", 0, HX_OPT_STRING, "2y", 0, 0, NULL,
	    "DURATION", "keep 1-hour min/avg/max this long", 0,
	    check_duration },
	{ "history_max_bytes", 0, HX_OPT_STRING, "0", 0, 0, NULL, "SIZE",
	    "cap on the history's stored blocks, oldest dropped first "
	    "(0: none)",
	    0, check_bytes },
	{ "history_flush", 0, HX_OPT_SECONDS, "60", 0.1, 3600, NULL, "SECONDS",
	    "write the history to disk this often (a crash loses "
	    "at most this much)",
	    0, NULL },
	{ "metrics_public", 0, HX_OPT_BOOL, "no", 0, 0, NULL, NULL,
	    "serve GET /metrics, every series, without credentials", 0, NULL },
	{ "notify_ca_file", 0, HX_OPT_STRING, "", 0, 0, NULL, "FILE",
	    "CA certificates that notification receivers' TLS must chain to "
	    "(empty: the system's)",
	    HX_OPT_EMPTY_OK, NULL },
	{ "oidc_issuer", 0, HX_OPT_STRING, "", 0, 0, NULL, "URL",
	    "OpenID provider's issuer (https://); enables the oidc realm "
	    "(discovery from URL/.well-known/openid-configuration)",
	    HX_OPT_EMPTY_OK, check_oidc_issuer },
	{ "oidc_client_id", 0, HX_OPT_STRING, "", 0, 0, NULL, "ID",
	    "client id registered at the OpenID provider", HX_OPT_EMPTY_OK,
	    NULL },
	{ "oidc_client_secret_file", 0, HX_OPT_STRING, "", 0, 0, NULL, "FILE",
	    "file holding the client secret (one line)", HX_OPT_EMPTY_OK,
	    NULL },
	{ "oidc_client_auth", 0, HX_OPT_CHOICE, "basic", 0, 0,
	    client_auth_choices, "basic|post",
	    "how the client authenticates at the token endpoint "
	    "(client_secret_basic or client_secret_post)",
	    0, NULL },
	{ "oidc_ca_file", 0, HX_OPT_STRING, "", 0, 0, NULL, "FILE",
	    "CA certificates the OpenID provider's TLS must chain to "
	    "(empty: the system's)",
	    HX_OPT_EMPTY_OK, NULL },
	{ "oidc_redirect_uri", 0, HX_OPT_STRING, "", 0, 0, NULL, "URL",
	    "this daemon's callback as the browser reaches it, registered at "
	    "the provider (https://HOST:PORT/api/auth/oidc/callback)",
	    HX_OPT_EMPTY_OK, NULL },
	{ "oidc_scopes", 0, HX_OPT_STRING, "openid profile email", 0, 0, NULL,
	    "SCOPES", "scopes asked for (space-separated; openid first)", 0,
	    NULL },
	{ "oidc_role_claim", 0, HX_OPT_STRING, "groups", 0, 0, NULL, "CLAIM",
	    "ID token claim whose values map to roles (a dotted path such as "
	    "realm_access.roles reaches into objects)",
	    0, NULL },
	{ "oidc_role_map", 0, HX_OPT_STRING, "", 0, 0, NULL, "VALUE=ROLE;...",
	    "role claim values to roles; a user with no mapped value may not "
	    "sign in",
	    HX_OPT_EMPTY_OK, NULL },
	{ "oidc_username_claim", 0, HX_OPT_STRING, "preferred_username", 0, 0,
	    NULL, "CLAIM", "ID token claim that names the user", 0, NULL },
	{ "oidc_display", 0, HX_OPT_STRING, "Sign in with single sign-on", 0, 0,
	    NULL, "TEXT", "the sign-in button's text on the web page", 0,
	    NULL },
	{ "tls_cert", 0, HX_OPT_STRING, "", 0, 0, NULL, "FILE",
	    "PEM certificate (then its chain) that makes the TCP listener "
	    "TLS-only; needs tls_key",
	    HX_OPT_EMPTY_OK, check_tls_path },
	{ "tls_key", 0, HX_OPT_STRING, "", 0, 0, NULL, "FILE",
	    "PEM private key of tls_cert", HX_OPT_EMPTY_OK, check_tls_path },
	{ "allow_plain_http", 0, HX_OPT_BOOL, "false", 0, 0, NULL, NULL,
	    "allow a listener beyond loopback without TLS", 0, NULL },
	{ "notify_retry_base", 0, HX_OPT_SECONDS, "5", 0.05, 300, NULL,
	    "SECONDS",
	    "first wait before a failed notification is sent again "
	    "(doubling, at most 5 min apart, for 1 h)",
	    0, NULL },
};
const size_t options_count = HX_ARRAY_SIZE(options_table);

int
options_split_listen(const char *value, char *host, size_t hostlen, int *port,
    char **err)
{
	const char *colon, *hs;
	size_t	    hl;
	long long   p;

	if (value[0] == '[') {
		const char *close = strchr(value, ']');

		if (close == NULL || close[1] != ':') {
			*err = xasprintf("'%s' is not [ADDRESS]:PORT", value);
			return -1;
		}
		hs = value + 1;
		hl = (size_t)(close - hs);
		colon = close + 1;
	} else {
		if ((colon = strrchr(value, ':')) == NULL) {
			*err = xasprintf("'%s' is not HOST:PORT", value);
			return -1;
		}
		hs = value;
		hl = (size_t)(colon - value);
	}
	if (hl == 0 || hl >= hostlen) {
		*err = xasprintf("'%s' has no usable host", value);
		return -1;
	}
	if (hx_parse_ll(colon + 1, 1, 65535, &p) != 0) {
		*err = xasprintf("'%s' has no port from 1 to 65535", value);
		return -1;
	}
	memcpy(host, hs, hl);
	host[hl] = '\0';
	*port = (int)p;
	return 0;
}

void
options_from_config(const struct hx_config *cfg, struct options *o)
{
	const struct hx_opt_value *v;
	char			  *err = NULL;

	memset(o, 0, sizeof *o);
	v = hx_config_get(cfg, "config");
	o->config_file = v->str;
	o->config_given = v->source == HX_SRC_FLAG;
	o->foreground = (int)hx_config_int(cfg, "foreground");
	o->help = (int)hx_config_int(cfg, "help");
	o->version = (int)hx_config_int(cfg, "version");
	o->dump_options = (int)hx_config_int(cfg, "dump_options");
	o->dump_routes = (int)hx_config_int(cfg, "dump_routes");
	o->dump_protocol = (int)hx_config_int(cfg, "dump_protocol");
	/* Validated by check_listen when set. */
	if (options_split_listen(hx_config_str(cfg, "listen"), o->listen_host,
		sizeof o->listen_host, &o->listen_port, &err) != 0)
		abort();
	o->socket_path = hx_config_str(cfg, "socket");
	o->data_dir = hx_config_str(cfg, "data_dir");
	o->web_root = hx_config_str(cfg, "web_root");
	o->node_interval = hx_config_seconds(cfg, "node_interval");
	o->vm_interval = hx_config_seconds(cfg, "vm_interval");
	v = hx_config_get(cfg, "libvirt_uri");
	o->libvirt_uris = (const char *const *)v->list;
	o->nlibvirt_uris = v->nlist;
	v = hx_config_get(cfg, "disks");
	o->disks = (const char *const *)v->list;
	o->ndisks = v->nlist;
	/* "auto" alone: none named, the collector finds them (hx-node.h). */
	if (o->ndisks == 1 && strcmp(o->disks[0], "auto") == 0)
		o->ndisks = 0;
	o->heartbeat_interval = hx_config_seconds(cfg, "heartbeat_interval");
	o->subscription_timeout = hx_config_seconds(cfg,
	    "subscription_timeout");
	o->peer_timeout = hx_config_seconds(cfg, "peer_timeout");
	o->log_level = (int)hx_config_int(cfg, "log_level");
	o->log_format = (int)hx_config_int(cfg, "log_format");
	o->max_clients = (int)hx_config_int(cfg, "max_clients");
	o->replay_events = (int)hx_config_int(cfg, "replay_events");
	o->login_queue = (int)hx_config_int(cfg, "login_queue");
	o->login_threads = (int)hx_config_int(cfg, "login_threads");
	o->audit_retention_days = (int)hx_config_int(cfg,
	    "audit_retention_days");
	o->max_clients_per_user = (int)hx_config_int(cfg,
	    "max_clients_per_user");
	o->max_clients_per_address = (int)hx_config_int(cfg,
	    "max_clients_per_address");
	o->reserved_unix_clients = (int)hx_config_int(cfg,
	    "reserved_unix_clients");
	o->max_connections_per_address = (int)hx_config_int(cfg,
	    "max_connections_per_address");
	o->request_timeout = (int)hx_config_int(cfg, "request_timeout");
	o->pam_service = hx_config_str(cfg, "pam_service");
	o->ldap_realm = hx_config_str(cfg, "ldap_realm");
	o->ldap_url = hx_config_str(cfg, "ldap_url");
	o->ldap_starttls = (int)hx_config_int(cfg, "ldap_starttls");
	o->ldap_ca_file = hx_config_str(cfg, "ldap_ca_file");
	o->ldap_bind_dn = hx_config_str(cfg, "ldap_bind_dn");
	o->ldap_bind_password_file = hx_config_str(cfg,
	    "ldap_bind_password_file");
	o->ldap_user_base = hx_config_str(cfg, "ldap_user_base");
	o->ldap_user_filter = hx_config_str(cfg, "ldap_user_filter");
	o->ldap_group_base = hx_config_str(cfg, "ldap_group_base");
	o->ldap_group_filter = hx_config_str(cfg, "ldap_group_filter");
	o->ldap_group_role_map = hx_config_str(cfg, "ldap_group_role_map");
	o->ldap_timeout = hx_config_seconds(cfg, "ldap_timeout");
	o->oidc_realm = hx_config_str(cfg, "oidc_realm");
	o->max_api_keys_per_user = (int)hx_config_int(cfg,
	    "max_api_keys_per_user");
	v = hx_config_get(cfg, "allowed_hosts");
	o->allowed_hosts = (const char *const *)v->list;
	o->nallowed_hosts = v->nlist;
	v = hx_config_get(cfg, "allowed_origins");
	o->allowed_origins = (const char *const *)v->list;
	o->nallowed_origins = v->nlist;
	o->history = (int)hx_config_int(cfg, "history");
	/* Validated by their checks when set. */
	(void)options_parse_duration(hx_config_str(cfg,
					 "history_raw_retention"),
	    &o->history_raw_retention_ms);
	(void)options_parse_duration(hx_config_str(cfg,
					 "history_minute_retention"),
	    &o->history_minute_retention_ms);
	(void)options_parse_duration(hx_config_str(cfg,
					 "history_hour_retention"),
	    &o->history_hour_retention_ms);
	(void)options_parse_bytes(hx_config_str(cfg, "history_max_bytes"),
	    &o->history_max_bytes);
	o->history_flush = hx_config_seconds(cfg, "history_flush");
	o->metrics_public = (int)hx_config_int(cfg, "metrics_public");
	o->notify_ca_file = hx_config_str(cfg, "notify_ca_file");
	o->notify_retry_base = hx_config_seconds(cfg, "notify_retry_base");
	o->tls_cert = hx_config_str(cfg, "tls_cert");
	o->tls_key = hx_config_str(cfg, "tls_key");
	o->allow_plain_http = (int)hx_config_int(cfg, "allow_plain_http");
	o->oidc_issuer = hx_config_str(cfg, "oidc_issuer");
	o->oidc_client_id = hx_config_str(cfg, "oidc_client_id");
	o->oidc_client_secret_file = hx_config_str(cfg,
	    "oidc_client_secret_file");
	o->oidc_client_auth =
	    client_auth_choices[hx_config_int(cfg, "oidc_client_auth")];
	o->oidc_ca_file = hx_config_str(cfg, "oidc_ca_file");
	o->oidc_redirect_uri = hx_config_str(cfg, "oidc_redirect_uri");
	o->oidc_scopes = hx_config_str(cfg, "oidc_scopes");
	o->oidc_role_claim = hx_config_str(cfg, "oidc_role_claim");
	o->oidc_role_map = hx_config_str(cfg, "oidc_role_map");
	o->oidc_username_claim = hx_config_str(cfg, "oidc_username_claim");
	o->oidc_display = hx_config_str(cfg, "oidc_display");
}

int
options_check(const struct options *o, char **err)
{
	size_t i;

	for (i = 0; i < o->ndisks; i++)
		if (strcmp(o->disks[i], "auto") == 0) {
			*err = xstrdup("disks: 'auto' stands alone, not beside "
				       "mount points");
			return -1;
		}
	if ((o->tls_cert[0] == '\0') != (o->tls_key[0] == '\0')) {
		*err = xasprintf("%s is set but %s is not: TLS needs both "
				 "(or neither)",
		    o->tls_cert[0] != '\0' ? "tls_cert" : "tls_key",
		    o->tls_cert[0] != '\0' ? "tls_key" : "tls_cert");
		return -1;
	}
	if (strcmp(o->ldap_realm, "local") == 0 ||
	    strcmp(o->ldap_realm, "pam") == 0 ||
	    strcmp(o->oidc_realm, "local") == 0 ||
	    strcmp(o->oidc_realm, "pam") == 0 ||
	    strcmp(o->ldap_realm, o->oidc_realm) == 0) {
		*err =
		    xasprintf("ldap_realm ('%s') and oidc_realm ('%s') must "
			      "differ from each other and from local and pam",
			o->ldap_realm, o->oidc_realm);
		return -1;
	}
	if (o->ldap_url[0] != '\0' && o->ldap_user_base[0] == '\0') {
		*err = xstrdup("ldap_url is set but ldap_user_base is not");
		return -1;
	}
	if (o->ldap_url[0] != '\0' && o->ldap_group_role_map[0] == '\0') {
		*err = xstrdup("ldap_url is set but ldap_group_role_map is "
			       "not: no directory user could log in");
		return -1;
	}
	if (o->reserved_unix_clients >= o->max_clients) {
		*err =
		    xasprintf("reserved_unix_clients (%d) must be below "
			      "max_clients (%d): TCP clients would get no slot",
			o->reserved_unix_clients, o->max_clients);
		return -1;
	}
	return 0;
}

int
options_load(struct hx_config *cfg, int argc, char **argv, const char *path,
    int required, struct options *o, char **err)
{
	hx_config_init(cfg, options_table, options_count);
	if (hx_config_parse_args(cfg, argc, argv, err) != 0 ||
	    hx_config_load_file(cfg, path, required, err) < 0)
		goto fail;
	options_from_config(cfg, o);
	if (options_check(o, err) != 0)
		goto fail;
	return 0;
fail:
	hx_config_release(cfg);
	memset(o, 0, sizeof *o);
	return -1;
}
