/*
 * access.c - local trust by SO_PEERCRED, and the privilege question.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <string.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "access.h"
#include "hx-log.h"
#include "hx-util.h"

void
access_identify(struct lws *wsi, int on_unix_socket, struct identity *id)
{
	struct ucred	cred;
	socklen_t	len = sizeof cred;
	int		fd;

	memset(id, 0, sizeof *id);
	if (!on_unix_socket)
		return;
	fd = lws_get_socket_fd(wsi);
	if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred,
	    &len) != 0 || len != sizeof cred) {
		log_warn("cannot read peer credentials on the unix socket");
		return;
	}
	if (cred.uid == 0 || cred.uid == getuid()) {
		hx_strlcpy(id->name, "root@local", sizeof id->name);
		id->authenticated = 1;
		id->administrator = 1;
	}
}

int
access_allowed(const struct identity *id, hx_privs priv, const char *path)
{
	if (!id->authenticated)
		return 0;
	/* An Administrator holds every privilege on "/", propagated. */
	return id->administrator;
}
