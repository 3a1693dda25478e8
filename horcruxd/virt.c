/*
 * virt.c - libvirt connections and the lifecycle event thread (see
 * virt.h).
 *
 * State shared between threads (the connection pointers, the table of
 * last known statuses, the actions awaiting their events) is guarded by
 * one mutex, held only for table lookups and pointer swaps, never across
 * a libvirt call. The outgoing migrations being followed are touched by
 * the event thread alone and need no lock.
 *
 * A migration is seen from its source: libvirt's first MIGRATION_ITERATION
 * event starts it, the job's statistics are then read every vm_interval
 * (iteration events come only at the end of each pass over the guest's
 * memory, and the first pass is nearly all of it), and the JOB_COMPLETED
 * event of the outgoing migration ends it. A failed or cancelled migration
 * sends no event: the polling sees the job gone and the VM still active.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libvirt/virterror.h>

#include "alert.h"
#include "frame.h"
#include "hx-event.h"
#include "hx-hash.h"
#include "hx-log.h"
#include "hx-util.h"
#include "hx-virt.h"
#include "hx-proto.h"
#include "virt.h"

#define RETRY_MIN_MS 500
#define RETRY_MAX_MS 30000
#define ACTION_TTL_MS 10000 /* an event this soon after our call is ours */
#define MIG_LINGER_MS 10000 /* an ended job's event may come this late */

struct known {
	char *name;
	char  uuid[VIR_UUID_STRING_BUFLEN]; /* "": unknown */
	char *state; /* static word */
	int   container;
	int   seen; /* in the listing after a reconnection */
	int   incoming; /* its last event: started for a migration in */
};

/* An outgoing migration: MigrationStarted sent, MigrationCompleted not. */
struct migration {
	char   *name;
	char   *target; /* the target's node name, or NULL if unknown */
	int64_t ended_ms; /* 0 while the job runs, else when seen ended */
};

struct action {
	char   *name;
	char   *user;
	int64_t at_ms;
};

struct conn_state {
	struct virt  *v;
	size_t	      index;
	char	     *uri;
	int	      container_uri;
	virConnectPtr conn;
	int	      cb_id; /* lifecycle callback, or -1 */
	int	      job_cb_id; /* job completed, or -1 */
	int	      mig_cb_id; /* migration iteration, or -1 */
	int	      lost; /* closed under us: reopen */
	int	      ever_up;
	int64_t	      retry_at_ms;
	int64_t	      retry_ms;
	struct known *known;
	size_t	      nknown, knowncap;
	/* Event thread only; read lazily, forgotten with the connection. */
	char		 *host; /* libvirt's name for its host */
	int		  host_read;
	struct migration *migs;
	struct hx_hash	 *known_ix; /* name -> index in known (under mu) */
	size_t		  nmigs;
};

struct virt {
	pthread_t	   thread;
	pthread_mutex_t	   mu;
	int		   stop;
	int		   timer; /* wakes the loop to stop/retry */
	struct mailbox	  *mb;
	struct conn_state *c;
	size_t		   n;
	struct action	  *actions;
	size_t		   nactions;
	int		   poll_timer; /* reads migration jobs */
	struct alerts	  *alerts; /* status changes go there too */
	int		   poll_ms;
	int		   polling;
};

/*
 * A notification whose message names the libvirt URI (host configuration,
 * maybe a remote host and user): only SysAudit holders on /nodes read it;
 * every other subscriber gets public_message instead.
 */
static void
post_notification(struct virt *v, const char *level, const char *title,
    const char *message, const char *public_message)
{
	int64_t	      ts = hx_wall_ms();
	struct frame *f;

	f = frame_new("Notification",
	    hx_event_notification(level, title, message, ts),
	    HX_TOPIC_NOTIFICATIONS, NULL, NULL);
	frame_set_lesser(f,
	    frame_new("Notification",
		hx_event_notification(level, title, public_message, ts),
		HX_TOPIC_NOTIFICATIONS, NULL, NULL),
	    NULL, HX_PRIV_SYS_AUDIT, "/nodes");
	mailbox_post(v->mb, f);
}

/*
 * Post an event whose "user" names who acted (user@realm, or NULL). The
 * name is for that user and for those who may read identities anyway
 * (SysAudit or UserModify on /access); every other subscriber with
 * VmAudit gets the same event with "user": null.
 */
static void
post_with_user(struct virt *v, const char *type, json_t *data, int topic,
    const char *vm, const char *user, struct inv_change *chg)
{
	struct frame *f;
	json_t	     *anon = NULL;

	if (user != NULL) {
		/* Before frame_new, which takes data. */
		anon = json_deep_copy(data);
		json_object_set_new(anon, "user", json_null());
	}
	f = frame_new(type, data, topic, NULL, vm);
	if (anon != NULL)
		frame_set_lesser(f, frame_new(type, anon, topic, NULL, vm),
		    user, HX_PRIV_SYS_AUDIT | HX_PRIV_USER_MODIFY, "/access");
	mailbox_post_change(v->mb, f, chg);
}

/*
 * What an event changed in the inventory (mailbox.h): name's entry as
 * libvirt has it now, read from dom; dom NULL: the domain is gone. The
 * state word is what the event says, for when the entry is unreadable.
 */
static struct inv_change *
change_of(const char *name, int container, virDomainPtr dom, const char *state)
{
	struct inv_change *c = xcalloc(1, sizeof *c);
	char		  *err = NULL;

	c->at_ns = hx_mono_ns();
	c->id = xstrdup(name);
	c->container = container;
	c->gone = dom == NULL;
	c->state = state != NULL ? xstrdup(state) : NULL;
	if (dom != NULL &&
	    (c->entry = hx_virt_domain_summary_json(dom, &err)) != NULL)
		json_object_set_new(c->entry, "container",
		    json_boolean(container));
	free(err);
	return c;
}

/* dom's UUID in buf (VIR_UUID_STRING_BUFLEN), or NULL if unreadable. */
static const char *
dom_uuid(virDomainPtr dom, char *buf)
{
	if (virDomainGetUUIDString(dom, buf) != 0) {
		virResetLastError();
		return NULL;
	}
	return buf;
}

/* k's UUID in buf (VIR_UUID_STRING_BUFLEN), or NULL if unknown. */
static const char *
known_uuid(const struct known *k, char *buf)
{
	if (k == NULL || k->uuid[0] == '\0')
		return NULL;
	hx_strlcpy(buf, k->uuid, VIR_UUID_STRING_BUFLEN);
	return buf;
}

/*
 * The known table is an array indexed by name: a host may define
 * thousands of domains, and the collector asks about each one every
 * VM tick (virt_is_container), so a lookup must not walk the table.
 */
static struct known *
known_find(struct conn_state *cs, const char *name)
{
	size_t i;

	if (cs->known_ix == NULL || hx_hash_get(cs->known_ix, name, &i) != 0)
		return NULL;
	return &cs->known[i];
}

static struct known *
known_add(struct conn_state *cs, const char *name)
{
	struct known *k;

	if (cs->known_ix == NULL)
		cs->known_ix = hx_hash_new(0);
	if (cs->nknown == cs->knowncap) {
		cs->knowncap = cs->knowncap ? cs->knowncap * 2 : 16;
		cs->known = xrealloc(cs->known,
		    cs->knowncap * sizeof *cs->known);
	}
	k = &cs->known[cs->nknown];
	hx_hash_set(cs->known_ix, name, cs->nknown++);
	k->name = xstrdup(name);
	k->uuid[0] = '\0';
	k->state = NULL;
	k->container = cs->container_uri;
	k->seen = 1;
	k->incoming = 0;
	return k;
}

static void
known_remove(struct conn_state *cs, const char *name)
{
	size_t i;

	if (cs->known_ix == NULL || hx_hash_get(cs->known_ix, name, &i) != 0)
		return;
	hx_hash_del(cs->known_ix, name);
	free(cs->known[i].name);
	/* The last entry moves into the hole. */
	if (i != --cs->nknown) {
		cs->known[i] = cs->known[cs->nknown];
		hx_hash_set(cs->known_ix, cs->known[i].name, i);
	}
}

static void
known_clear(struct conn_state *cs)
{
	size_t i;

	for (i = 0; i < cs->nknown; i++)
		free(cs->known[i].name);
	free(cs->known);
	hx_hash_free(cs->known_ix);
	cs->known = NULL;
	cs->known_ix = NULL;
	cs->nknown = cs->knowncap = 0;
}

/* Is dom a container? An lxc:// connection, or a domain of type lxc. */
static int
is_container(struct conn_state *cs, virDomainPtr dom)
{
	char *xml;
	int   yes;

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
	int state, reason;

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
	int state, reason;

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
	int64_t now = hx_wall_ms();
	char   *user = NULL;
	size_t	i;

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
	int64_t now = hx_wall_ms();
	size_t	i;

	pthread_mutex_lock(&v->mu);
	/* Drop stale entries while we are here. */
	for (i = 0; i < v->nactions;) {
		if (now - v->actions[i].at_ms >= ACTION_TTL_MS) {
			free(v->actions[i].name);
			free(v->actions[i].user);
			v->actions[i] = v->actions[--v->nactions];
		} else
			i++;
	}
	v->actions = xrealloc(v->actions,
	    (v->nactions + 1) * sizeof *v->actions);
	v->actions[v->nactions].name = xstrdup(name);
	v->actions[v->nactions].user = xstrdup(user);
	v->actions[v->nactions].at_ms = now;
	v->nactions++;
	pthread_mutex_unlock(&v->mu);
}

/*
 * Post a VmStatusChanged or ContainerStatusChanged; user may be NULL, dom
 * is where the inventory entry is read from (NULL: the domain is gone).
 */
static void
post_status(struct virt *v, virDomainPtr dom, const char *name,
    const char *uuid, int container, const char *old, const char *now_state,
    const char *user)
{
	int64_t ts = hx_wall_ms();
	json_t *data;

	if (container)
		data = hx_event_container_status_changed(name, old, now_state,
		    user, ts);
	else
		data = hx_event_vm_status_changed(name, uuid, old, now_state,
		    user, ts);
	post_with_user(v,
	    container ? "ContainerStatusChanged" : "VmStatusChanged", data,
	    HX_TOPIC_VM_STATUS, name, user,
	    change_of(name, container, dom, now_state));
}

/*
 * The state an alert rule sees: libvirt's crashed state, and a VM whose
 * process died (a STOPPED event with detail FAILED or CRASHED; libvirt
 * then reports "shut off, reason crashed"), are both "crashed".
 */
static const char *
alert_state(int event, int detail, const char *state)
{
	if (event == VIR_DOMAIN_EVENT_CRASHED ||
	    (event == VIR_DOMAIN_EVENT_STOPPED &&
		(detail == VIR_DOMAIN_EVENT_STOPPED_FAILED ||
		    detail == VIR_DOMAIN_EVENT_STOPPED_CRASHED)))
		return "crashed";
	return state;
}

void
virt_set_interval(struct virt *v, double vm_s)
{
	if (v != NULL)
		__atomic_store_n(&v->poll_ms, (int)(vm_s * 1000 + 0.5),
		    __ATOMIC_RELAXED);
}

void
virt_set_alerts(struct virt *v, struct alerts *a)
{
	if (v != NULL)
		__atomic_store_n(&v->alerts, a, __ATOMIC_RELEASE);
}

/* Runs on the event thread. */
static int
on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail,
    void *opaque)
{
	struct conn_state *cs = opaque;
	struct virt	  *v = cs->v;
	const char	  *name = virDomainGetName(dom);
	const char	  *now_state, *old, *uuid;
	struct known	  *k;
	char		  *user, ubuf[VIR_UUID_STRING_BUFLEN];
	int		   gone, container;
	int64_t		   ts = hx_wall_ms();

	if (name == NULL)
		return 0;
	uuid = dom_uuid(dom, ubuf);
	pthread_mutex_lock(&v->mu);
	k = known_find(cs, name);
	pthread_mutex_unlock(&v->mu);

	if (event == VIR_DOMAIN_EVENT_DEFINED) {
		const char *st;

		if (k != NULL)
			return 0; /* an update of a known domain */
		/* libvirt calls first: the lock is never held across one. */
		st = state_of(dom);
		container = is_container(cs, dom);
		pthread_mutex_lock(&v->mu);
		k = known_add(cs, name);
		k->state = (char *)st;
		k->container = container;
		if (uuid != NULL)
			hx_strlcpy(k->uuid, uuid, sizeof k->uuid);
		pthread_mutex_unlock(&v->mu);
		user = take_action_user(v, name);
		post_with_user(v, "VmCreated",
		    hx_event_vm_created(name, uuid, name, user, ts),
		    HX_TOPIC_VM_EVENTS, name, user,
		    change_of(name, container, dom, st));
		free(user);
		return 0;
	}
	if (event == VIR_DOMAIN_EVENT_UNDEFINED) {
		if (k == NULL)
			return 0; /* reported gone already */
		pthread_mutex_lock(&v->mu);
		container = (k = known_find(cs, name)) != NULL && k->container;
		known_remove(cs, name);
		pthread_mutex_unlock(&v->mu);
		alerts_post_status(__atomic_load_n(&v->alerts,
				       __ATOMIC_ACQUIRE),
		    name, ALERT_VM_GONE);
		user = take_action_user(v, name);
		post_with_user(v, "VmDeleted",
		    hx_event_vm_deleted(name, uuid, name, user, ts),
		    HX_TOPIC_VM_EVENTS, name, user,
		    change_of(name, container, NULL, NULL));
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
	if (uuid != NULL)
		hx_strlcpy(k->uuid, uuid, sizeof k->uuid);
	k->incoming = event == VIR_DOMAIN_EVENT_STARTED &&
	    detail == VIR_DOMAIN_EVENT_STARTED_MIGRATED;
	if (gone)
		known_remove(cs, name);
	pthread_mutex_unlock(&v->mu);
	if (!container) {
		/* A transient VM that crashed is crashed, then gone. */
		alerts_post_status(__atomic_load_n(&v->alerts,
				       __ATOMIC_ACQUIRE),
		    name, alert_state(event, detail, now_state));
		if (gone)
			alerts_post_status(__atomic_load_n(&v->alerts,
					       __ATOMIC_ACQUIRE),
			    name, ALERT_VM_GONE);
	}
	if (old != NULL && strcmp(old, now_state) == 0 && !gone)
		return 0;
	user = take_action_user(v, name);
	if (old == NULL || strcmp(old, now_state) != 0)
		post_status(v, gone ? NULL : dom, name, uuid, container, old,
		    now_state, user);
	if (gone)
		post_with_user(v, "VmDeleted",
		    hx_event_vm_deleted(name, uuid, name, user, ts),
		    HX_TOPIC_VM_EVENTS, name, user,
		    change_of(name, container, NULL, NULL));
	free(user);
	return 0;
}

static int
param_ull(virTypedParameterPtr p, int n, const char *name,
    unsigned long long *v)
{
	return virTypedParamsGetULLong(p, n, name, v) == 1;
}

static struct migration *
mig_find(struct conn_state *cs, const char *name)
{
	size_t i;

	for (i = 0; i < cs->nmigs; i++) {
		if (strcmp(cs->migs[i].name, name) == 0)
			return &cs->migs[i];
	}
	return NULL;
}

/* Follow a migration of name to target (stolen; NULL if unknown). */
static struct migration *
mig_add(struct conn_state *cs, const char *name, char *target)
{
	struct migration *m;

	cs->migs = xrealloc(cs->migs, (cs->nmigs + 1) * sizeof *cs->migs);
	m = &cs->migs[cs->nmigs++];
	m->name = xstrdup(name);
	m->target = target;
	m->ended_ms = 0;
	return m;
}

/* Forget m; the last entry moves into its place. */
static void
mig_remove(struct conn_state *cs, struct migration *m)
{
	free(m->name);
	free(m->target);
	*m = cs->migs[--cs->nmigs];
}

static void
mig_clear(struct conn_state *cs)
{
	while (cs->nmigs > 0)
		mig_remove(cs, &cs->migs[cs->nmigs - 1]);
	free(cs->migs);
	cs->migs = NULL;
}

static int
mig_any(const struct virt *v)
{
	size_t i;

	for (i = 0; i < v->n; i++) {
		if (v->c[i].nmigs > 0)
			return 1;
	}
	return 0;
}

/* Start the job statistics polling, if it is not running. */
static void
poll_arm(struct virt *v)
{
	if (v->polling)
		return;
	virEventUpdateTimeout(v->poll_timer,
	    __atomic_load_n(&v->poll_ms, __ATOMIC_RELAXED));
	v->polling = 1;
}

/* The node name of connection cs (virsh hostname), or NULL if unknown. */
static const char *
conn_host(struct conn_state *cs)
{
	if (!cs->host_read && cs->conn != NULL) {
		cs->host_read = 1;
		if ((cs->host = virConnectGetHostname(cs->conn)) == NULL)
			virResetLastError();
	}
	return cs->host;
}

/* Forget the node name: the connection is gone. */
static void
forget_host(struct conn_state *cs)
{
	free(cs->host);
	cs->host = NULL;
	cs->host_read = 0;
}

/*
 * Where the VM called name is migrating to, if we watch it: another
 * connection whose last event about it was "started" for an incoming
 * migration, which libvirt sends on the target before the source starts
 * to send (a second URI of the source's own libvirtd never has it).
 * Returns that connection's node name (the caller frees it), or NULL.
 * libvirt tells the source nothing about its target, and asking the
 * target about its incoming domain can wait on the migration job (seen:
 * virDomainGetJobStats there took 3.6 s), so the events decide.
 */
static char *
find_target(struct conn_state *cs, const char *name)
{
	struct virt	  *v = cs->v;
	struct conn_state *o;
	struct known	  *k;
	size_t		   i;
	int		   incoming;

	for (i = 0; i < v->n; i++) {
		o = &v->c[i];
		if (o == cs)
			continue;
		pthread_mutex_lock(&v->mu);
		incoming = (k = known_find(o, name)) != NULL && k->incoming;
		pthread_mutex_unlock(&v->mu);
		if (incoming && conn_host(o) != NULL)
			return xstrdup(conn_host(o));
	}
	return NULL;
}

enum {
	JOB_UNKNOWN, /* the statistics could not be read */
	JOB_RUNNING, /* an outgoing migration runs */
	JOB_FINISHING, /* it has moved the guest; libvirt is ending it */
	JOB_GONE /* no migration job (any more) */
};

/*
 * Read the job statistics of dom and, while an outgoing migration runs
 * and libvirt has figures for it, post a MigrationProgress. The figures
 * are virsh's (domjobinfo, migrate --verbose): progress is the part of
 * the data total that is no longer remaining, so transferred_bytes is
 * total - remaining, not the bytes sent (zero pages cost almost none,
 * pages dirtied again are sent again). Within one pass over the guest's
 * memory it only grows; a new pass counts the pages the guest dirtied
 * meanwhile as remaining again, so the added `iteration` (the pass, from
 * 1) says why it fell back. Returns a JOB_* state.
 */
static int
post_progress(struct conn_state *cs, virDomainPtr dom, const char *name)
{
	virTypedParameterPtr p = NULL;
	unsigned long long   total = 0, left = 0, pass = 0;
	int		     n = 0, type, op = -1, figures, has_pass;
	int64_t		     ts;
	json_t		    *data;
	char		     ubuf[VIR_UUID_STRING_BUFLEN];

	if (virDomainGetJobStats(dom, &type, &p, &n, 0) != 0) {
		virResetLastError();
		return JOB_UNKNOWN;
	}
	/* Stamped after the call: no older than the figures it carries. */
	ts = hx_wall_ms();
	if (virTypedParamsGetInt(p, n, VIR_DOMAIN_JOB_OPERATION, &op) == 1 &&
	    op != VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT)
		type = VIR_DOMAIN_JOB_NONE; /* another job now */
	figures = param_ull(p, n, VIR_DOMAIN_JOB_DATA_TOTAL, &total) &&
	    param_ull(p, n, VIR_DOMAIN_JOB_DATA_REMAINING, &left) &&
	    total > 0 && left <= total;
	has_pass = param_ull(p, n, VIR_DOMAIN_JOB_MEMORY_ITERATION, &pass);
	virTypedParamsFree(p, n);
	if (type == VIR_DOMAIN_JOB_COMPLETED)
		return JOB_FINISHING;
	if (type != VIR_DOMAIN_JOB_BOUNDED && type != VIR_DOMAIN_JOB_UNBOUNDED)
		return JOB_GONE;
	if (!figures)
		return JOB_RUNNING;
	data = hx_event_migration_progress(name, dom_uuid(dom, ubuf),
	    100.0 * (double)(total - left) / (double)total,
	    (int64_t)(total - left), (int64_t)total,
	    has_pass ? (int64_t)pass : -1, ts);
	mailbox_post(cs->v->mb,
	    frame_new("MigrationProgress", data, HX_TOPIC_MIGRATIONS, NULL,
		name));
	return JOB_RUNNING;
}

/*
 * Runs on the event thread: a job ended. A backup becomes BackupCompleted
 * (size as libvirt counted it, duration as it measured it); an outgoing
 * migration becomes MigrationCompleted.
 */
static void
on_job_completed(virConnectPtr conn, virDomainPtr dom, virTypedParameterPtr p,
    int n, void *opaque)
{
	struct conn_state *cs = opaque;
	const char	  *name = virDomainGetName(dom);
	unsigned long long elapsed = 0, bytes = 0;
	int		   op = -1;
	int64_t		   ts = hx_wall_ms();
	int64_t		   size;
	char		   id[320], *target, ubuf[VIR_UUID_STRING_BUFLEN];
	const char	  *uuid;
	struct migration  *m;

	if (name == NULL ||
	    virTypedParamsGetInt(p, n, VIR_DOMAIN_JOB_OPERATION, &op) != 1)
		return;
	param_ull(p, n, VIR_DOMAIN_JOB_TIME_ELAPSED, &elapsed);
	uuid = dom_uuid(dom, ubuf);
	if (op == VIR_DOMAIN_JOB_OPERATION_BACKUP) {
		size = -1;
		if (param_ull(p, n, VIR_DOMAIN_JOB_DATA_PROCESSED, &bytes) ||
		    param_ull(p, n, VIR_DOMAIN_JOB_DISK_PROCESSED, &bytes))
			size = (int64_t)bytes;
		/* libvirt names no backup id: the VM and its end time do. */
		snprintf(id, sizeof id, "%s-%lld", name, (long long)ts);
		mailbox_post(cs->v->mb,
		    frame_new("BackupCompleted",
			hx_event_backup_completed(name, uuid, id, size,
			    (double)elapsed / 1000, ts),
			HX_TOPIC_BACKUPS, NULL, name));
	} else if (op == VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT) {
		target = NULL;
		if ((m = mig_find(cs, name)) != NULL) {
			target = m->target;
			m->target = NULL;
			mig_remove(cs, m);
		}
		mailbox_post(cs->v->mb,
		    frame_new("MigrationCompleted",
			hx_event_migration_completed(name, uuid, target,
			    (double)elapsed / 1000, ts),
			HX_TOPIC_MIGRATIONS, NULL, name));
		free(target);
	}
}

/*
 * Runs on the event thread: a pre-copy migration started a pass over the
 * guest's memory. The first pass announces MigrationStarted; each reports
 * progress.
 */
static void
on_migration_iteration(virConnectPtr conn, virDomainPtr dom, int iteration,
    void *opaque)
{
	struct conn_state *cs = opaque;
	const char	  *name = virDomainGetName(dom);
	struct migration  *m;
	int64_t		   ts = hx_wall_ms();
	char		   ubuf[VIR_UUID_STRING_BUFLEN];

	if (name == NULL)
		return;
	if ((m = mig_find(cs, name)) == NULL || m->ended_ms != 0) {
		if (m != NULL)
			mig_remove(cs, m); /* an older one, ended */
		m = mig_add(cs, name, find_target(cs, name));
		mailbox_post(cs->v->mb,
		    frame_new("MigrationStarted",
			hx_event_migration_started(name, dom_uuid(dom, ubuf),
			    conn_host(cs), m->target, ts),
			HX_TOPIC_MIGRATIONS, NULL, name));
		poll_arm(cs->v);
	}
	post_progress(cs, dom, name);
}

/*
 * An outgoing migration ended and the VM still runs here: it failed or
 * was cancelled, which libvirt sends no event for. Its last completed
 * job may say which, and for a failure libvirt's error message; the
 * reason is null when libvirt kept neither (QEMU's driver in libvirt 9
 * keeps the figures of an aborted migration but not its outcome: the
 * caller of virDomainMigrate alone got the error).
 */
static void
post_failed(struct conn_state *cs, virDomainPtr dom, struct migration *m)
{
	virTypedParameterPtr p = NULL;
	const char	    *msg = NULL;
	char		    *reason = NULL, ubuf[VIR_UUID_STRING_BUFLEN];
	int		     n = 0, type = VIR_DOMAIN_JOB_NONE, op = -1;
	int64_t		     ts;

	if (virDomainGetJobStats(dom, &type, &p, &n,
		VIR_DOMAIN_JOB_STATS_COMPLETED) != 0) {
		virResetLastError();
		type = VIR_DOMAIN_JOB_NONE;
	}
	ts = hx_wall_ms();
	if (virTypedParamsGetInt(p, n, VIR_DOMAIN_JOB_OPERATION, &op) == 1 &&
	    op != VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT)
		type = VIR_DOMAIN_JOB_NONE; /* another job's */
	if (type == VIR_DOMAIN_JOB_CANCELLED)
		reason = xstrdup("cancelled");
	else if (type == VIR_DOMAIN_JOB_FAILED)
		reason = xstrdup(virTypedParamsGetString(p, n,
				     VIR_DOMAIN_JOB_ERRMSG, &msg) == 1 &&
			    msg != NULL ?
			msg :
			"failed");
	virTypedParamsFree(p, n);
	log_info("the migration of '%s' from '%s' ended without completing%s%s",
	    m->name, cs->uri, reason != NULL ? ": " : "",
	    reason != NULL ? reason : "");
	mailbox_post(cs->v->mb,
	    frame_new("MigrationFailed",
		hx_event_migration_failed(m->name, dom_uuid(dom, ubuf),
		    conn_host(cs), m->target, reason, ts),
		HX_TOPIC_MIGRATIONS, NULL, m->name));
	free(reason);
}

/*
 * Runs on the event thread, every vm_interval while migrations are
 * followed: their progress, and the end of those that ended without
 * their JOB_COMPLETED event.
 */
static void
on_poll(int timer, void *opaque)
{
	struct virt	  *v = opaque;
	struct conn_state *cs;
	struct migration  *m;
	virDomainPtr	   dom;
	int64_t		   now = hx_wall_ms();
	size_t		   i, j;
	int		   job, active;

	for (i = 0; i < v->n; i++) {
		cs = &v->c[i];
		for (j = 0; j < cs->nmigs;) {
			m = &cs->migs[j];
			if (m->ended_ms != 0) {
				/*
				 * Kept a while for its JOB_COMPLETED (which
				 * wants the target's name), if one comes.
				 */
				if (now - m->ended_ms >= MIG_LINGER_MS)
					mig_remove(cs, m);
				else
					j++;
				continue;
			}
			j++;
			if (cs->conn == NULL)
				continue;
			dom = virDomainLookupByName(cs->conn, m->name);
			if (dom != NULL)
				job = post_progress(cs, dom, m->name);
			else if (virGetLastErrorCode() == VIR_ERR_NO_DOMAIN)
				job = JOB_GONE;
			else
				job = JOB_UNKNOWN;
			if (job == JOB_GONE) {
				/*
				 * Over. A VM still active here failed or was
				 * cancelled, which libvirt sends no event for;
				 * else it left and JOB_COMPLETED tells.
				 */
				active = dom != NULL &&
				    virDomainIsActive(dom) == 1;
				if (active)
					post_failed(cs, dom, m);
				m->ended_ms = now;
			}
			if (dom != NULL)
				virDomainFree(dom);
		}
	}
	virResetLastError();
	if (!mig_any(v)) {
		virEventUpdateTimeout(v->poll_timer, -1);
		v->polling = 0;
	}
}

/* Runs on the event thread (libvirt calls it when the connection dies). */
static void
on_close(virConnectPtr conn, int reason, void *opaque)
{
	struct conn_state *cs = opaque;

	pthread_mutex_lock(&cs->v->mu);
	cs->lost = 1;
	pthread_mutex_unlock(&cs->v->mu);
}

static void
deregister(struct conn_state *cs, virConnectPtr conn)
{
	int   *ids[] = { &cs->cb_id, &cs->job_cb_id, &cs->mig_cb_id };
	size_t i;

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
	struct virt  *v = cs->v;
	virDomainPtr *doms = NULL;
	struct known *k;
	const char   *state, *old, *name, *uuid;
	int	      n, i, container, fresh;
	size_t	      j;
	int64_t	      ts = hx_wall_ms();
	char	     *gone, ubuf[VIR_UUID_STRING_BUFLEN];
	int	      gone_container = 0;

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
		uuid = dom_uuid(doms[i], ubuf);
		pthread_mutex_lock(&v->mu);
		fresh = (k = known_find(cs, name)) == NULL;
		if (fresh)
			k = known_add(cs, name);
		old = k->state;
		k->state = (char *)state;
		k->container = container;
		if (uuid != NULL)
			hx_strlcpy(k->uuid, uuid, sizeof k->uuid);
		k->seen = 1;
		pthread_mutex_unlock(&v->mu);
		if (cs->ever_up && fresh)
			post_with_user(v, "VmCreated",
			    hx_event_vm_created(name, uuid, name, NULL, ts),
			    HX_TOPIC_VM_EVENTS, name, NULL,
			    change_of(name, container, doms[i], state));
		else if (cs->ever_up && old != NULL && strcmp(old, state) != 0)
			post_status(v, doms[i], name, uuid, container, old,
			    state, NULL);
		virDomainFree(doms[i]);
	}
	free(doms);
	/*
	 * Known before, not there now: undefined while we could not see.
	 * A removal moves the last entry to j, so the scan resumes at j.
	 */
	for (j = 0;;) {
		gone = NULL;
		pthread_mutex_lock(&v->mu);
		for (; j < cs->nknown; j++) {
			if (!cs->known[j].seen) {
				gone = xstrdup(cs->known[j].name);
				uuid = known_uuid(&cs->known[j], ubuf);
				gone_container = cs->known[j].container;
				known_remove(cs, gone);
				break;
			}
		}
		pthread_mutex_unlock(&v->mu);
		if (gone == NULL)
			break;
		post_with_user(v, "VmDeleted",
		    hx_event_vm_deleted(gone, uuid, gone, NULL, ts),
		    HX_TOPIC_VM_EVENTS, gone, NULL,
		    change_of(gone, gone_container, NULL, NULL));
		free(gone);
	}
}

/* Try to open cs; on failure schedule the next try with backoff. */
static void
try_open(struct conn_state *cs)
{
	virConnectPtr conn;
	const char   *why;
	char	     *msg;

	if ((conn = virConnectOpen(cs->uri)) == NULL) {
		why = virGetLastErrorMessage();
		if (cs->retry_ms == RETRY_MIN_MS)
			log_warn("cannot connect to libvirt '%s': %s", cs->uri,
			    why);
		cs->retry_at_ms = hx_wall_ms() + cs->retry_ms;
		cs->retry_ms = cs->retry_ms * 2 > RETRY_MAX_MS ?
		    RETRY_MAX_MS :
		    cs->retry_ms * 2;
		return;
	}
	cs->cb_id = virConnectDomainEventRegisterAny(conn, NULL,
	    VIR_DOMAIN_EVENT_ID_LIFECYCLE,
	    VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle), cs, NULL);
	if (cs->cb_id < 0)
		log_warn("libvirt '%s': no lifecycle events: %s", cs->uri,
		    virGetLastErrorMessage());
	cs->job_cb_id = virConnectDomainEventRegisterAny(conn, NULL,
	    VIR_DOMAIN_EVENT_ID_JOB_COMPLETED,
	    VIR_DOMAIN_EVENT_CALLBACK(on_job_completed), cs, NULL);
	cs->mig_cb_id = virConnectDomainEventRegisterAny(conn, NULL,
	    VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION,
	    VIR_DOMAIN_EVENT_CALLBACK(on_migration_iteration), cs, NULL);
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
		    msg, "a libvirt connection is back");
		free(msg);
	}
	cs->ever_up = 1;
}

/* A connection closed under us: drop it and start retrying. */
static void
drop_conn(struct conn_state *cs)
{
	virConnectPtr conn;
	char	     *msg;

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
	/* Their events are lost with it: no end can be reported. */
	mig_clear(cs);
	forget_host(cs);
	log_warn("lost the libvirt connection '%s'; reconnecting", cs->uri);
	msg = xasprintf("the libvirt connection '%s' was lost; reconnecting",
	    cs->uri);
	post_notification(cs->v, "warning", "libvirt connection lost", msg,
	    "a libvirt connection was lost; reconnecting");
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
	struct virt *v = arg;
	size_t	     i;
	int	     stop, lost;

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
	struct virt *v = xcalloc(1, sizeof *v);
	size_t	     i;
	int	     r;

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
	/* Off until a migration starts; then its job is read every VM tick. */
	v->poll_ms = (int)(o->vm_interval * 1000 + 0.5);
	v->poll_timer = virEventAddTimeout(-1, on_poll, v, NULL);
	v->n = o->nlibvirt_uris;
	v->c = xcalloc(v->n ? v->n : 1, sizeof *v->c);
	for (i = 0; i < v->n; i++) {
		v->c[i].v = v;
		v->c[i].index = i;
		v->c[i].uri = xstrdup(o->libvirt_uris[i]);
		v->c[i].container_uri = strncmp(o->libvirt_uris[i],
					    "lxc:", 4) == 0;
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
	size_t i;

	if (v == NULL)
		return;
	pthread_mutex_lock(&v->mu);
	v->stop = 1;
	pthread_mutex_unlock(&v->mu);
	/* A zero timeout wakes the loop's poll at once (PLATFORM-NOTES). */
	virEventUpdateTimeout(v->timer, 0);
	pthread_join(v->thread, NULL);
	virEventRemoveTimeout(v->timer);
	if (v->poll_timer >= 0)
		virEventRemoveTimeout(v->poll_timer);
	for (i = 0; i < v->n; i++) {
		struct conn_state *cs = &v->c[i];

		if (cs->conn != NULL) {
			deregister(cs, cs->conn);
			virConnectUnregisterCloseCallback(cs->conn, on_close);
			virConnectClose(cs->conn);
		}
		known_clear(cs);
		mig_clear(cs);
		forget_host(cs);
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
	struct known *k;
	int	      yes;

	pthread_mutex_lock(&v->mu);
	k = known_find(&v->c[i], name);
	yes = k != NULL ? k->container : v->c[i].container_uri;
	pthread_mutex_unlock(&v->mu);
	return yes;
}

virConnectPtr
virt_conn(struct virt *v, size_t i)
{
	virConnectPtr conn;

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
	virConnectPtr conn;
	virDomainPtr  dom;
	size_t	      i;

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
