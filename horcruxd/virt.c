/*
 * virt.c - libvirt connections and the lifecycle event thread (see
 * virt.h).
 *
 * State shared between threads (the connection pointers, the table of
 * last known statuses, the actions awaiting their events) is guarded by
 * one mutex, held only for table lookups and pointer swaps, never across
 * a libvirt call.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "frame.h"
#include "hx-event.h"
#include "hx-log.h"
#include "hx-util.h"
#include "hx-virt.h"
#include "topic.h"
#include "virt.h"

#define RETRY_MIN_MS	500
#define RETRY_MAX_MS	30000
#define ACTION_TTL_MS	10000	/* an event this soon after our call is ours */

struct known {
	char	*name;
	char	*state;		/* static word */
	int	 container;
	int	 migrating;	/* MigrationStarted sent, not completed */
	int	 seen;		/* in the listing after a reconnection */
};

struct action {
	char	*name;
	char	*user;
	int64_t	 at_ms;
};

struct conn_state {
	struct virt	*v;
	size_t		 index;
	char		*uri;
	int		 container_uri;
	virConnectPtr	 conn;
	int		 cb_id;		/* lifecycle callback, or -1 */
	int		 job_cb_id;	/* job completed, or -1 */
	int		 mig_cb_id;	/* migration iteration, or -1 */
	int		 lost;		/* closed under us: reopen */
	int		 ever_up;
	int64_t		 retry_at_ms;
	int64_t		 retry_ms;
	struct known	*known;
	size_t		 nknown;
};

struct virt {
	pthread_t		 thread;
	pthread_mutex_t		 mu;
	int			 stop;
	int			 timer;		/* wakes the loop to stop/retry */
	struct mailbox		*mb;
	struct conn_state	*c;
	size_t			 n;
	struct action		*actions;
	size_t			 nactions;
};

static void
post_notification(struct virt *v, const char *level, const char *title,
    const char *message)
{
	mailbox_post(v->mb, frame_new("Notification",
	    hx_event_notification(level, title, message, hx_wall_ms()),
	    TOPIC_NOTIFICATIONS, NULL, NULL));
}

static struct known *
known_find(struct conn_state *cs, const char *name)
{
	size_t	i;

	for (i = 0; i < cs->nknown; i++) {
		if (strcmp(cs->known[i].name, name) == 0)
			return &cs->known[i];
	}
	return NULL;
}

static struct known *
known_add(struct conn_state *cs, const char *name)
{
	struct known	*k;

	cs->known = xrealloc(cs->known, (cs->nknown + 1) * sizeof *cs->known);
	k = &cs->known[cs->nknown++];
	k->name = xstrdup(name);
	k->state = NULL;
	k->container = cs->container_uri;
	k->migrating = 0;
	k->seen = 1;
	return k;
}

static void
known_remove(struct conn_state *cs, const char *name)
{
	size_t	i;

	for (i = 0; i < cs->nknown; i++) {
		if (strcmp(cs->known[i].name, name) == 0) {
			free(cs->known[i].name);
			cs->known[i] = cs->known[--cs->nknown];
			return;
		}
	}
}

static void
known_clear(struct conn_state *cs)
{
	size_t	i;

	for (i = 0; i < cs->nknown; i++)
		free(cs->known[i].name);
	free(cs->known);
	cs->known = NULL;
	cs->nknown = 0;
}

/* Is dom a container? An lxc:// connection, or a domain of type lxc. */
static int
is_container(struct conn_state *cs, virDomainPtr dom)
{
	char	*xml;
	int	 yes;

	if (cs->container_uri)
		return 1;
	if ((xml = virDomainGetXMLDesc(dom, 0)) == NULL)
		return 0;
	yes = strncmp(xml, "<domain type='lxc'", 18) == 0;
	free(xml);
	return yes;
}

static const char *
state_of(virDomainPtr dom)
{
	int	state, reason;

	if (virDomainGetState(dom, &state, &reason, 0) != 0)
		return "unknown";
	return hx_virt_state_word(state);
}

/*
 * The state of dom after a lifecycle event, and whether it is gone: a
 * domain libvirt no longer has, or a transient one that stopped (libvirt
 * removes it next). That is how a VM leaves after migrating away, even
 * with --undefinesource, and how a `virsh create`d one ends: libvirt
 * sends no UNDEFINED event for either.
 */
static const char *
state_after(virDomainPtr dom, int *gone)
{
	int	state, reason;

	*gone = 0;
	if (virDomainGetState(dom, &state, &reason, 0) != 0) {
		if (virGetLastErrorCode() != VIR_ERR_NO_DOMAIN)
			return "unknown";
		*gone = 1;
		return "stopped";
	}
	if (state == VIR_DOMAIN_SHUTOFF && virDomainIsPersistent(dom) == 0)
		*gone = 1;
	return hx_virt_state_word(state);
}

/* Take the user who asked for an action on name, if recent. */
static char *
take_action_user(struct virt *v, const char *name)
{
	int64_t	 now = hx_wall_ms();
	char	*user = NULL;
	size_t	 i;

	pthread_mutex_lock(&v->mu);
	for (i = 0; i < v->nactions; i++) {
		if (strcmp(v->actions[i].name, name) == 0 &&
		    now - v->actions[i].at_ms < ACTION_TTL_MS) {
			user = v->actions[i].user;
			free(v->actions[i].name);
			v->actions[i] = v->actions[--v->nactions];
			break;
		}
	}
	pthread_mutex_unlock(&v->mu);
	return user;
}

void
virt_note_action(struct virt *v, const char *name, const char *user)
{
	int64_t	now = hx_wall_ms();
	size_t	i;

	pthread_mutex_lock(&v->mu);
	/* Drop stale entries while we are here. */
	for (i = 0; i < v->nactions; ) {
		if (now - v->actions[i].at_ms >= ACTION_TTL_MS) {
			free(v->actions[i].name);
			free(v->actions[i].user);
			v->actions[i] = v->actions[--v->nactions];
		} else
			i++;
	}
	v->actions = xrealloc(v->actions, (v->nactions + 1) *
	    sizeof *v->actions);
	v->actions[v->nactions].name = xstrdup(name);
	v->actions[v->nactions].user = xstrdup(user);
	v->actions[v->nactions].at_ms = now;
	v->nactions++;
	pthread_mutex_unlock(&v->mu);
}

/* Post a VmStatusChanged or ContainerStatusChanged; user may be NULL. */
static void
post_status(struct virt *v, const char *name, int container,
    const char *old, const char *now_state, const char *user)
{
	int64_t	 ts = hx_wall_ms();
	json_t	*data;

	if (container)
		data = hx_event_container_status_changed(name, old, now_state,
		    ts);
	else
		data = hx_event_vm_status_changed(name, old, now_state, ts);
	/* An addition to the seed's fields: who, when it was us. */
	json_object_set_new(data, "user", user ? json_string(user) :
	    json_null());
	mailbox_post(v->mb, frame_new(container ? "ContainerStatusChanged" :
	    "VmStatusChanged", data, TOPIC_VM_STATUS, NULL, name));
}

/* Runs on the event thread. */
static int
on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail,
    void *opaque)
{
	struct conn_state	*cs = opaque;
	struct virt		*v = cs->v;
	const char		*name = virDomainGetName(dom);
	const char		*now_state, *old;
	struct known		*k;
	char			*user;
	int			 gone, container;
	int64_t			 ts = hx_wall_ms();

	if (name == NULL)
		return 0;
	pthread_mutex_lock(&v->mu);
	k = known_find(cs, name);
	pthread_mutex_unlock(&v->mu);

	if (event == VIR_DOMAIN_EVENT_DEFINED) {
		const char	*st;

		if (k != NULL)
			return 0;	/* an update of a known domain */
		/* libvirt calls first: the lock is never held across one. */
		st = state_of(dom);
		container = is_container(cs, dom);
		pthread_mutex_lock(&v->mu);
		k = known_add(cs, name);
		k->state = (char *)st;
		k->container = container;
		pthread_mutex_unlock(&v->mu);
		user = take_action_user(v, name);
		mailbox_post(v->mb, frame_new("VmCreated",
		    hx_event_vm_created(name, name, user, ts), TOPIC_VM_EVENTS,
		    NULL, name));
		free(user);
		return 0;
	}
	if (event == VIR_DOMAIN_EVENT_UNDEFINED) {
		if (k == NULL)
			return 0;	/* reported gone already */
		pthread_mutex_lock(&v->mu);
		known_remove(cs, name);
		pthread_mutex_unlock(&v->mu);
		user = take_action_user(v, name);
		mailbox_post(v->mb, frame_new("VmDeleted",
		    hx_event_vm_deleted(name, name, user, ts), TOPIC_VM_EVENTS,
		    NULL, name));
		free(user);
		return 0;
	}
	now_state = state_after(dom, &gone);
	pthread_mutex_lock(&v->mu);
	if ((k = known_find(cs, name)) == NULL && gone) {
		/* Never known, or reported gone already. */
		pthread_mutex_unlock(&v->mu);
		return 0;
	}
	if (k == NULL)
		k = known_add(cs, name);
	old = k->state;
	k->state = (char *)now_state;
	container = k->container;
	if (gone)
		known_remove(cs, name);
	pthread_mutex_unlock(&v->mu);
	if (old != NULL && strcmp(old, now_state) == 0 && !gone)
		return 0;
	user = take_action_user(v, name);
	if (old == NULL || strcmp(old, now_state) != 0)
		post_status(v, name, container, old, now_state, user);
	if (gone)
		mailbox_post(v->mb, frame_new("VmDeleted",
		    hx_event_vm_deleted(name, name, user, ts), TOPIC_VM_EVENTS,
		    NULL, name));
	free(user);
	return 0;
}

static int
param_ull(virTypedParameterPtr p, int n, const char *name,
    unsigned long long *v)
{
	return virTypedParamsGetULLong(p, n, name, v) == 1;
}

/*
 * Runs on the event thread: a job ended. A backup becomes BackupCompleted
 * (size as libvirt counted it, duration as it measured it); an outgoing
 * migration becomes MigrationCompleted.
 */
static void
on_job_completed(virConnectPtr conn, virDomainPtr dom,
    virTypedParameterPtr p, int n, void *opaque)
{
	struct conn_state	*cs = opaque;
	const char		*name = virDomainGetName(dom);
	unsigned long long	 elapsed = 0, bytes = 0;
	int			 op = -1;
	int64_t			 ts = hx_wall_ms();
	int64_t			 size;
	char			 id[320];
	struct known		*k;

	if (name == NULL ||
	    virTypedParamsGetInt(p, n, VIR_DOMAIN_JOB_OPERATION, &op) != 1)
		return;
	param_ull(p, n, VIR_DOMAIN_JOB_TIME_ELAPSED, &elapsed);
	if (op == VIR_DOMAIN_JOB_OPERATION_BACKUP) {
		size = -1;
		if (param_ull(p, n, VIR_DOMAIN_JOB_DATA_PROCESSED, &bytes) ||
		    param_ull(p, n, VIR_DOMAIN_JOB_DISK_PROCESSED, &bytes))
			size = (int64_t)bytes;
		/* libvirt names no backup id: the VM and its end time do. */
		snprintf(id, sizeof id, "%s-%lld", name, (long long)ts);
		mailbox_post(cs->v->mb, frame_new("BackupCompleted",
		    hx_event_backup_completed(name, id, size,
		    (double)elapsed / 1000, ts), TOPIC_BACKUPS, NULL, name));
	} else if (op == VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT) {
		pthread_mutex_lock(&cs->v->mu);
		if ((k = known_find(cs, name)) != NULL)
			k->migrating = 0;
		pthread_mutex_unlock(&cs->v->mu);
		mailbox_post(cs->v->mb, frame_new("MigrationCompleted",
		    hx_event_migration_completed(name, NULL,
		    (double)elapsed / 1000, ts), TOPIC_MIGRATIONS, NULL,
		    name));
	}
}

/*
 * Runs on the event thread: a pre-copy migration finished an iteration.
 * The first one announces MigrationStarted; each reports progress from
 * the job's own statistics.
 */
static void
on_migration_iteration(virConnectPtr conn, virDomainPtr dom, int iteration,
    void *opaque)
{
	struct conn_state	*cs = opaque;
	const char		*name = virDomainGetName(dom);
	virTypedParameterPtr	 p = NULL;
	unsigned long long	 total = 0, done = 0;
	struct known		*k;
	char			 host[256];
	int			 n = 0, type, first = 0;
	int64_t			 ts = hx_wall_ms();

	if (name == NULL)
		return;
	pthread_mutex_lock(&cs->v->mu);
	if ((k = known_find(cs, name)) != NULL && !k->migrating) {
		k->migrating = 1;
		first = 1;
	}
	pthread_mutex_unlock(&cs->v->mu);
	if (first) {
		if (gethostname(host, sizeof host) != 0)
			host[0] = '\0';
		host[sizeof host - 1] = '\0';
		mailbox_post(cs->v->mb, frame_new("MigrationStarted",
		    hx_event_migration_started(name, host[0] ? host : NULL,
		    NULL, ts), TOPIC_MIGRATIONS, NULL, name));
	}
	if (virDomainGetJobStats(dom, &type, &p, &n, 0) != 0)
		return;
	param_ull(p, n, VIR_DOMAIN_JOB_DATA_TOTAL, &total);
	param_ull(p, n, VIR_DOMAIN_JOB_DATA_PROCESSED, &done);
	virTypedParamsFree(p, n);
	mailbox_post(cs->v->mb, frame_new("MigrationProgress",
	    hx_event_migration_progress(name, total ? 100.0 * (double)done /
	    (double)total : NAN, done ? (int64_t)done : -1, total ?
	    (int64_t)total : -1, ts), TOPIC_MIGRATIONS, NULL, name));
}

/* Runs on the event thread (libvirt calls it when the connection dies). */
static void
on_close(virConnectPtr conn, int reason, void *opaque)
{
	struct conn_state	*cs = opaque;

	pthread_mutex_lock(&cs->v->mu);
	cs->lost = 1;
	pthread_mutex_unlock(&cs->v->mu);
}

static void
deregister(struct conn_state *cs, virConnectPtr conn)
{
	int	*ids[] = { &cs->cb_id, &cs->job_cb_id, &cs->mig_cb_id };
	size_t	 i;

	for (i = 0; i < HX_ARRAY_SIZE(ids); i++) {
		if (*ids[i] >= 0)
			virConnectDomainEventDeregisterAny(conn, *ids[i]);
		*ids[i] = -1;
	}
}

/*
 * Record every domain's state as the baseline for status changes. After
 * a reconnection, compare with what was known before the loss and report
 * what changed meanwhile: no event was there to tell us.
 */
static void
learn_domains(struct conn_state *cs, virConnectPtr conn)
{
	struct virt	*v = cs->v;
	virDomainPtr	*doms = NULL;
	struct known	*k;
	const char	*state, *old, *name;
	int		 n, i, container, fresh;
	size_t		 j;
	int64_t		 ts = hx_wall_ms();
	char		*gone;

	if ((n = virConnectListAllDomains(conn, &doms, 0)) < 0)
		return;
	pthread_mutex_lock(&v->mu);
	for (j = 0; j < cs->nknown; j++)
		cs->known[j].seen = 0;
	pthread_mutex_unlock(&v->mu);
	for (i = 0; i < n; i++) {
		name = virDomainGetName(doms[i]);
		state = state_of(doms[i]);
		container = is_container(cs, doms[i]);
		pthread_mutex_lock(&v->mu);
		fresh = (k = known_find(cs, name)) == NULL;
		if (fresh)
			k = known_add(cs, name);
		old = k->state;
		k->state = (char *)state;
		k->container = container;
		k->seen = 1;
		pthread_mutex_unlock(&v->mu);
		if (cs->ever_up && fresh)
			mailbox_post(v->mb, frame_new("VmCreated",
			    hx_event_vm_created(name, name, NULL, ts),
			    TOPIC_VM_EVENTS, NULL, name));
		else if (cs->ever_up && old != NULL && strcmp(old, state) != 0)
			post_status(v, name, container, old, state, NULL);
		virDomainFree(doms[i]);
	}
	free(doms);
	/* Known before, not there now: undefined while we could not see. */
	for (;;) {
		gone = NULL;
		pthread_mutex_lock(&v->mu);
		for (j = 0; j < cs->nknown; j++) {
			if (!cs->known[j].seen) {
				gone = xstrdup(cs->known[j].name);
				known_remove(cs, gone);
				break;
			}
		}
		pthread_mutex_unlock(&v->mu);
		if (gone == NULL)
			break;
		mailbox_post(v->mb, frame_new("VmDeleted", hx_event_vm_deleted(
		    gone, gone, NULL, ts), TOPIC_VM_EVENTS, NULL, gone));
		free(gone);
	}
}

/* Try to open cs; on failure schedule the next try with backoff. */
static void
try_open(struct conn_state *cs)
{
	virConnectPtr	 conn;
	const char	*why;
	char		*msg;

	if ((conn = virConnectOpen(cs->uri)) == NULL) {
		why = virGetLastErrorMessage();
		if (cs->retry_ms == RETRY_MIN_MS)
			log_warn("cannot connect to libvirt '%s': %s", cs->uri,
			    why);
		cs->retry_at_ms = hx_wall_ms() + cs->retry_ms;
		cs->retry_ms = cs->retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS :
		    cs->retry_ms * 2;
		return;
	}
	cs->cb_id = virConnectDomainEventRegisterAny(conn, NULL,
	    VIR_DOMAIN_EVENT_ID_LIFECYCLE, VIR_DOMAIN_EVENT_CALLBACK(
	    on_lifecycle), cs, NULL);
	if (cs->cb_id < 0)
		log_warn("libvirt '%s': no lifecycle events: %s", cs->uri,
		    virGetLastErrorMessage());
	cs->job_cb_id = virConnectDomainEventRegisterAny(conn, NULL,
	    VIR_DOMAIN_EVENT_ID_JOB_COMPLETED, VIR_DOMAIN_EVENT_CALLBACK(
	    on_job_completed), cs, NULL);
	cs->mig_cb_id = virConnectDomainEventRegisterAny(conn, NULL,
	    VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION, VIR_DOMAIN_EVENT_CALLBACK(
	    on_migration_iteration), cs, NULL);
	/* The test driver has no jobs: a refused registration is no error. */
	virResetLastError();
	virConnectRegisterCloseCallback(conn, on_close, cs, NULL);
	learn_domains(cs, conn);
	pthread_mutex_lock(&cs->v->mu);
	cs->conn = conn;
	cs->lost = 0;
	pthread_mutex_unlock(&cs->v->mu);
	cs->retry_ms = RETRY_MIN_MS;
	log_info("connected to libvirt '%s'", cs->uri);
	if (cs->ever_up) {
		msg = xasprintf("the libvirt connection '%s' is back", cs->uri);
		post_notification(cs->v, "info", "libvirt connection restored",
		    msg);
		free(msg);
	}
	cs->ever_up = 1;
}

/* A connection closed under us: drop it and start retrying. */
static void
drop_conn(struct conn_state *cs)
{
	virConnectPtr	 conn;
	char		*msg;

	pthread_mutex_lock(&cs->v->mu);
	conn = cs->conn;
	cs->conn = NULL;
	cs->lost = 0;
	/* Known states stay: the reconnection reports what changed. */
	pthread_mutex_unlock(&cs->v->mu);
	if (conn == NULL)
		return;
	deregister(cs, conn);
	virConnectUnregisterCloseCallback(conn, on_close);
	virConnectClose(conn);
	log_warn("lost the libvirt connection '%s'; reconnecting", cs->uri);
	msg = xasprintf("the libvirt connection '%s' was lost; reconnecting",
	    cs->uri);
	post_notification(cs->v, "warning", "libvirt connection lost", msg);
	free(msg);
	cs->retry_ms = RETRY_MIN_MS;
	cs->retry_at_ms = hx_wall_ms() + RETRY_MIN_MS;
}

static void
on_timer(int timer, void *opaque)
{
	/* Only wakes the loop: the thread looks at its flags after each run. */
}

static void *
virt_main(void *arg)
{
	struct virt	*v = arg;
	size_t		 i;
	int		 stop, lost;

	for (;;) {
		pthread_mutex_lock(&v->mu);
		stop = v->stop;
		pthread_mutex_unlock(&v->mu);
		if (stop)
			break;
		for (i = 0; i < v->n; i++) {
			struct conn_state *cs = &v->c[i];

			pthread_mutex_lock(&v->mu);
			lost = cs->lost;
			pthread_mutex_unlock(&v->mu);
			if (lost)
				drop_conn(cs);
			else if (cs->conn == NULL &&
			    hx_wall_ms() >= cs->retry_at_ms)
				try_open(cs);
		}
		if (virEventRunDefaultImpl() < 0)
			log_warn("libvirt event loop: %s",
			    virGetLastErrorMessage());
	}
	return NULL;
}

static void
quiet_errors(void *data, virErrorPtr e)
{
	/* Errors are read where they happen, with virGetLastError(). */
}

struct virt *
virt_start(const struct options *o, struct mailbox *mb, char **err)
{
	struct virt	*v = xcalloc(1, sizeof *v);
	size_t		 i;
	int		 r;

	pthread_mutex_init(&v->mu, NULL);
	v->mb = mb;
	/* libvirt's default handler prints every error to stderr. */
	virSetErrorFunc(NULL, quiet_errors);
	if (virEventRegisterDefaultImpl() < 0) {
		*err = xasprintf("cannot start libvirt's event loop: %s",
		    virGetLastErrorMessage());
		free(v);
		return NULL;
	}
	v->n = o->nlibvirt_uris;
	v->c = xcalloc(v->n ? v->n : 1, sizeof *v->c);
	for (i = 0; i < v->n; i++) {
		v->c[i].v = v;
		v->c[i].index = i;
		v->c[i].uri = xstrdup(o->libvirt_uris[i]);
		v->c[i].container_uri = strncmp(o->libvirt_uris[i], "lxc:", 4)
		    == 0;
		v->c[i].cb_id = -1;
		v->c[i].job_cb_id = -1;
		v->c[i].mig_cb_id = -1;
		v->c[i].retry_ms = RETRY_MIN_MS;
		/* The first try happens here, so samples start at once. */
		try_open(&v->c[i]);
	}
	/* A periodic wake-up: retries and stop requests are seen within it. */
	v->timer = virEventAddTimeout(RETRY_MIN_MS, on_timer, v, NULL);
	if ((r = pthread_create(&v->thread, NULL, virt_main, v)) != 0) {
		*err = xasprintf("cannot start the libvirt thread: %s",
		    strerror(r));
		return NULL;
	}
	return v;
}

void
virt_stop(struct virt *v)
{
	size_t	i;

	if (v == NULL)
		return;
	pthread_mutex_lock(&v->mu);
	v->stop = 1;
	pthread_mutex_unlock(&v->mu);
	/* A zero timeout wakes the loop's poll at once (PLATFORM-NOTES). */
	virEventUpdateTimeout(v->timer, 0);
	pthread_join(v->thread, NULL);
	virEventRemoveTimeout(v->timer);
	for (i = 0; i < v->n; i++) {
		struct conn_state *cs = &v->c[i];

		if (cs->conn != NULL) {
			deregister(cs, cs->conn);
			virConnectUnregisterCloseCallback(cs->conn, on_close);
			virConnectClose(cs->conn);
		}
		known_clear(cs);
		free(cs->uri);
	}
	for (i = 0; i < v->nactions; i++) {
		free(v->actions[i].name);
		free(v->actions[i].user);
	}
	free(v->actions);
	free(v->c);
	pthread_mutex_destroy(&v->mu);
	free(v);
}

size_t
virt_count(const struct virt *v)
{
	return v->n;
}

const char *
virt_uri(const struct virt *v, size_t i)
{
	return v->c[i].uri;
}

int
virt_is_container(struct virt *v, size_t i, const char *name)
{
	struct known	*k;
	int		 yes;

	pthread_mutex_lock(&v->mu);
	k = known_find(&v->c[i], name);
	yes = k != NULL ? k->container : v->c[i].container_uri;
	pthread_mutex_unlock(&v->mu);
	return yes;
}

virConnectPtr
virt_conn(struct virt *v, size_t i)
{
	virConnectPtr	conn;

	pthread_mutex_lock(&v->mu);
	conn = v->c[i].lost ? NULL : v->c[i].conn;
	if (conn != NULL)
		virConnectRef(conn);
	pthread_mutex_unlock(&v->mu);
	return conn;
}

virDomainPtr
virt_domain(struct virt *v, const char *name, size_t *conn_index)
{
	virConnectPtr	conn;
	virDomainPtr	dom;
	size_t		i;

	for (i = 0; i < v->n; i++) {
		if ((conn = virt_conn(v, i)) == NULL)
			continue;
		dom = virDomainLookupByName(conn, name);
		virConnectClose(conn);
		if (dom != NULL) {
			if (conn_index != NULL)
				*conn_index = i;
			return dom;
		}
	}
	return NULL;
}
