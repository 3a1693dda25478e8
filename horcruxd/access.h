/*
 * access.h - who a connection is, and what it may do where.
 *
 * Today the only identity is local trust (DESIGN §5): a peer on the Unix
 * socket whose uid is 0 or the daemon's own is the Administrator
 * root@local. Everyone else is anonymous and may use only public routes.
 * The identity issue replaces the body of access_allowed() with roles and
 * ACLs; callers already ask the question in its final shape.
 */
#ifndef HORCRUXD_ACCESS_H
#define HORCRUXD_ACCESS_H

#include "hx-priv.h"

struct lws;

struct identity {
	char	name[128];	/* "root@local"; empty when anonymous */
	int	authenticated;
	int	administrator;	/* holds every privilege on "/" */
};

/*
 * Work out the identity of the peer of wsi: local trust on the Unix
 * socket vhost, anonymous otherwise. Never fails.
 */
void access_identify(struct lws *wsi, int on_unix_socket,
    struct identity *id);

/* May id use privilege priv on ACL path (e.g. "/nodes", "/vms/web-1")? */
int access_allowed(const struct identity *id, hx_privs priv,
    const char *path);

#endif
