/*
 * options.h - horcruxd's configuration: the option table and the typed
 * settings the rest of the daemon reads.
 *
 * The table (options.c) is the single source for horcrux.conf keys, the
 * command-line flags and --help; man/horcrux.conf.5 and the completions
 * are checked against `horcruxd --dump-options` by the tests.
 */
#ifndef HORCRUXD_OPTIONS_H
#define HORCRUXD_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "hx-config.h"

#define HORCRUXD_CONFIG_FILE "/etc/horcrux/horcrux.conf"

struct options {
	const char	  *config_file;
	int		   config_given; /* -c was used: must exist */
	int		   foreground;
	int		   help;
	int		   version;
	int		   dump_options;
	int		   dump_routes;
	int		   dump_protocol;
	char		   listen_host[256];
	int		   listen_port;
	const char	  *socket_path;
	const char	  *data_dir;
	const char	  *web_root;
	double		   node_interval;
	double		   vm_interval;
	const char *const *libvirt_uris;
	size_t		   nlibvirt_uris;
	const char *const *disks;
	size_t		   ndisks;
	double		   heartbeat_interval;
	double		   subscription_timeout;
	double		   peer_timeout;
	int		   log_level;
	int		   log_format; /* enum hx_log_format */
	int		   max_clients;
	int		   replay_events; /* hidden: the ring's size */
	int		   login_queue;
	int		   login_threads;
	int		   audit_retention_days;
	int		   max_clients_per_user;
	int		   max_clients_per_address;
	int		   reserved_unix_clients;
	int		   max_connections_per_address;
	int		   request_timeout; /* seconds */
	const char	  *pam_service;
	const char	  *ldap_realm; /* DESIGN §11 */
	const char	  *ldap_url; /* "": no LDAP realm */
	int		   ldap_starttls;
	const char	  *ldap_ca_file;
	const char	  *ldap_bind_dn;
	const char	  *ldap_bind_password_file;
	const char	  *ldap_user_base;
	const char	  *ldap_user_filter;
	const char	  *ldap_group_base;
	const char	  *ldap_group_filter;
	const char	  *ldap_group_role_map;
	double		   ldap_timeout; /* seconds */
	const char	  *oidc_realm;
	int		   max_api_keys_per_user;
	const char *const *allowed_hosts;
	size_t		   nallowed_hosts;
	const char *const *allowed_origins;
	size_t		   nallowed_origins;
	int		   history; /* 0 off, 1 on */
	int64_t		   history_raw_retention_ms;
	int64_t		   history_minute_retention_ms;
	int64_t		   history_hour_retention_ms;
	int64_t		   history_max_bytes; /* 0: no cap */
	double		   history_flush; /* seconds */
	int		   metrics_public; /* GET /metrics without login */
	const char	  *notify_ca_file; /* "": the system's CAs */
	double		   notify_retry_base; /* seconds */
	const char	  *tls_cert; /* "": no TLS (with tls_key) */
	const char	  *tls_key;
	int		   allow_plain_http; /* plain TCP beyond loopback */
	/* The oidc realm (DESIGN §11): "" issuer means none. */
	const char *oidc_issuer;
	const char *oidc_client_id;
	const char *oidc_client_secret_file;
	const char *oidc_client_auth; /* "basic" or "post" */
	const char *oidc_ca_file; /* "": the system's CAs */
	const char *oidc_redirect_uri;
	const char *oidc_scopes;
	const char *oidc_role_claim;
	const char *oidc_role_map;
	const char *oidc_username_claim;
	const char *oidc_display;
};

extern const struct hx_opt options_table[];
extern const size_t	   options_count;

/*
 * Fill opts from cfg (which must outlive opts: strings are borrowed).
 * Never fails: every value was validated when it was set.
 */
void options_from_config(const struct hx_config *cfg, struct options *opts);

/*
 * Checks across options that no single value can make. Returns 0, or -1
 * with *err (caller frees).
 */
int options_check(const struct options *opts, char **err);

/*
 * Load a whole new settings set as start-up does, with no side effect:
 * init cfg, parse argv (flags win), read path (a missing file is an error
 * only when required), fill o and check it. Returns 0 (release cfg with
 * hx_config_release; o borrows its strings), or -1 with *err (caller
 * frees) and cfg already released.
 */
int options_load(struct hx_config *cfg, int argc, char **argv, const char *path,
    int required, struct options *o, char **err);

/* "48h", "30d", "2y" (s m h d w y) into *ms. Returns 0, or -1. */
int options_parse_duration(const char *value, int64_t *ms);
/* "0", "500M", "2G" (K M G T: powers of 1024) into *bytes. 0 or -1. */
int options_parse_bytes(const char *value, int64_t *bytes);

/* Split "HOST:PORT" / "[V6]:PORT". Returns 0, or -1 with *err. */
int options_split_listen(const char *value, char *host, size_t hostlen,
    int *port, char **err);

#endif
