/*
 * alert.c - the alert thread (see alert.h): its queue, the rules in
 * memory, one state per (rule, target), episodes written to the identity
 * database, the events, and the REST jobs on rules and alerts.
 *
 * The thread wakes on queued items (samples, status changes, jobs) and
 * once an hour to expire old episodes. Evaluation walks a sample's series
 * (lib/hx-alert's walk, the names DESIGN §8 gives them) and, for each,
 * the rules that apply to it (the narrowest of each severity); a state is
 * only made for a target whose condition holds, and dropped when it goes
 * back to idle, so memory follows what is pending or firing, not what
 * exists.
 *
 * Notifications: an episode's start and end are handed to the delivery
 * thread (horcruxd/notify, notify_post never waits) for each target the
 * rule names. What it does not do: deliver them itself, decide who may
 * see what (alerts_submit does that on the service thread), or read the
 * metrics history.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access.h"
#include "alert.h"
#include "frame.h"
#include "hx-alert.h"
#include "hx-auth.h"
#include "hx-log.h"
#include "hx-proto.h"
#include "hx-rbac.h"
#include "hx-store.h"
#include "hx-util.h"
#include "hx-virt.h"
#include "mailbox.h"
#include "notify.h"
#include "snapshot.h"
#include "worker.h"

/* Items waiting at most: beyond, a sample is dropped. */
#define ALERT_QUEUE_MAX 4096
/* REST jobs waiting or running at most: beyond, 429. */
#define ALERT_JOBS_MAX 64
/* Resolved episodes are kept this long (DESIGN §9: 90 days). */
#define ALERT_KEEP_MS (90LL * 86400 * 1000)
#define ALERT_PURGE_NS (3600ULL * 1000000000ULL)
/* GET /api/alerts answers at most this many episodes, newest first. */
#define ALERT_LIST_MAX 1000
#define TRACK_BUCKETS 4096
#define APPLY_BUCKETS 8192
/* Cached subjects at most: beyond, the cache starts again. */
#define APPLY_MAX 200000

/* One series value of a host sample. */
struct apoint {
	char  *name;
	double v;
};

struct aitem {
	int		     kind; /* AI_* */
	int64_t		     ts;
	char		    *host; /* AI_NODE */
	struct apoint	    *pts;
	size_t		     npts;
	struct hx_vm_sample *vm; /* AI_VM */
	char		    *name, *state; /* AI_STATUS */
	struct job	    *job; /* AI_JOB */
	struct aitem	    *next;
};

enum {
	AI_NODE,
	AI_VM,
	AI_STATUS,
	AI_JOB
};

/* One target's state under one rule. */
struct track {
	char		     *key; /* rule '\x1f' subject key */
	char		     *rule;
	struct hx_alert_track t;
	char		      alert_id[40]; /* while firing */
	char		     *target; /* node:HOST, vm:NAME */
	char		     *vm; /* the VM's name, or NULL */
	char		     *series; /* NULL for a status */
	int		      acked;
	struct track	     *next;
};

/*
 * Which rules apply to one subject (a series name, or "\x01vm:NAME" for
 * status rules), computed once per set of rules: hx_alert_applies
 * compares every matching rule with the others, too much to repeat for
 * every series of every sample.
 */
struct apply {
	char	     *subject;
	unsigned      gen; /* the rules' generation it was made for */
	size_t	      n;
	size_t	     *idx;
	struct apply *next;
};

struct alerts {
	pthread_t	      thread;
	int		      started;
	pthread_mutex_t	      mu;
	pthread_cond_t	      cv;
	struct aitem	     *head, *tail;
	size_t		      n;
	int		      njobs;
	uint64_t	      dropped;
	int		      stop;
	struct mailbox	     *mb;
	struct notify	     *notify; /* delivery, or NULL */
	struct hx_store	     *st; /* alert thread only */
	struct hx_alert_rule *rules;
	size_t		      nrules;
	struct track	     *tracks[TRACK_BUCKETS];
	struct apply	     *apply[APPLY_BUCKETS];
	size_t		      napply;
	unsigned	      gen; /* bumped when the rules change */
	char		      host[256]; /* the last host sample's name */
};

/* What the caller of a job may see and do, decided on the service thread. */
struct aright {
	struct alerts *a;
	char	       who[ACCESS_WHO_MAX];
	int	       node_see; /* SysAudit on /nodes */
	int	       node_ack; /* SysModify on /nodes */
	int	       vms_see; /* VmAudit on /vms itself */
	int	       vms_ack;
	char	     **see; /* VMs of the inventory with VmAudit */
	char	     **ack; /* ... with VmPowerMgmt */
	size_t	       nsee, nack;
};

/* --- the queue ------------------------------------------------------------- */

static void
item_free(struct aitem *it)
{
	size_t i;

	for (i = 0; i < it->npts; i++)
		free(it->pts[i].name);
	free(it->pts);
	free(it->host);
	hx_vm_samples_free(it->vm, 1);
	free(it->name);
	free(it->state);
	if (it->job != NULL)
		job_free(it->job);
	free(it);
}

/* Append it; a sample beyond the bound is dropped. Returns 0 or -1. */
static int
enqueue(struct alerts *a, struct aitem *it)
{
	pthread_mutex_lock(&a->mu);
	if (it->kind == AI_JOB ? a->njobs >= ALERT_JOBS_MAX :
				 a->n >= ALERT_QUEUE_MAX) {
		if (it->kind != AI_JOB)
			a->dropped++;
		pthread_mutex_unlock(&a->mu);
		return -1;
	}
	if (it->kind == AI_JOB)
		a->njobs++;
	else
		a->n++;
	if (a->tail != NULL)
		a->tail->next = it;
	else
		a->head = it;
	a->tail = it;
	pthread_cond_signal(&a->cv);
	pthread_mutex_unlock(&a->mu);
	return 0;
}

static void
collect_point(const char *name, double v, void *arg)
{
	struct aitem *it = arg;

	if (isnan(v))
		return;
	it->pts = xrealloc(it->pts, (it->npts + 1) * sizeof *it->pts);
	it->pts[it->npts].name = xstrdup(name);
	it->pts[it->npts++].v = v;
}

void
alerts_post_node(struct alerts *a, const struct hx_node_metrics *m)
{
	struct aitem *it;

	if (a == NULL)
		return;
	it = xcalloc(1, sizeof *it);
	it->kind = AI_NODE;
	it->ts = m->timestamp_ms;
	it->host = xstrdup(m->hostname);
	hx_alert_walk(1, "node", m, collect_point, it);
	if (enqueue(a, it) != 0)
		item_free(it);
}

void
alerts_post_vm(struct alerts *a, struct hx_vm_sample *v)
{
	struct aitem *it;

	if (a == NULL) {
		hx_vm_samples_free(v, 1);
		return;
	}
	it = xcalloc(1, sizeof *it);
	it->kind = AI_VM;
	it->ts = v->timestamp_ms;
	it->vm = v;
	if (enqueue(a, it) != 0)
		item_free(it);
}

void
alerts_post_status(struct alerts *a, const char *name, const char *state)
{
	struct aitem *it;

	if (a == NULL || name == NULL || state == NULL)
		return;
	it = xcalloc(1, sizeof *it);
	it->kind = AI_STATUS;
	it->ts = hx_wall_ms();
	it->name = xstrdup(name);
	it->state = xstrdup(state);
	if (enqueue(a, it) != 0)
		item_free(it);
}

/* --- states ---------------------------------------------------------------- */

static unsigned
hash_key(const char *s)
{
	unsigned h = 2166136261u;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static void
apply_clear(struct alerts *a)
{
	struct apply *p, *next;
	size_t	      b;

	for (b = 0; b < APPLY_BUCKETS; b++) {
		for (p = a->apply[b]; p != NULL; p = next) {
			next = p->next;
			free(p->subject);
			free(p->idx);
			free(p);
		}
		a->apply[b] = NULL;
	}
	a->napply = 0;
}

/* The rules (indexes) that apply to subject; status: status rules. */
static const struct apply *
apply_get(struct alerts *a, const char *subject, int status)
{
	struct apply *p;
	char	*key = status ? xasprintf("\x01%s", subject) : xstrdup(subject);
	unsigned h = hash_key(key) % APPLY_BUCKETS;
	size_t	 i;

	for (p = a->apply[h]; p != NULL; p = p->next) {
		if (strcmp(p->subject, key) == 0)
			break;
	}
	if (p == NULL) {
		if (a->napply >= APPLY_MAX) {
			apply_clear(a);
			h = hash_key(key) % APPLY_BUCKETS;
		}
		p = xcalloc(1, sizeof *p);
		p->subject = key;
		p->gen = a->gen - 1;
		p->next = a->apply[h];
		a->apply[h] = p;
		a->napply++;
	} else
		free(key);
	if (p->gen != a->gen) {
		p->n = 0;
		free(p->idx);
		p->idx = xcalloc(a->nrules + 1, sizeof *p->idx);
		for (i = 0; i < a->nrules; i++) {
			if ((a->rules[i].series == NULL) == !status ||
			    !hx_alert_applies(a->rules, a->nrules, i, subject))
				continue;
			p->idx[p->n++] = i;
		}
		p->gen = a->gen;
	}
	return p;
}

static struct track *
track_find(struct alerts *a, const char *key)
{
	struct track *t;

	for (t = a->tracks[hash_key(key) % TRACK_BUCKETS]; t != NULL;
	     t = t->next) {
		if (strcmp(t->key, key) == 0)
			return t;
	}
	return NULL;
}

static struct track *
track_add(struct alerts *a, const char *key, const char *rule)
{
	struct track *t = xcalloc(1, sizeof *t);
	unsigned      h = hash_key(key) % TRACK_BUCKETS;

	t->key = xstrdup(key);
	t->rule = xstrdup(rule);
	t->t.peak = NAN;
	t->t.value = NAN;
	t->next = a->tracks[h];
	a->tracks[h] = t;
	return t;
}

static void
track_drop(struct alerts *a, struct track *t)
{
	struct track **pp = &a->tracks[hash_key(t->key) % TRACK_BUCKETS];

	while (*pp != t)
		pp = &(*pp)->next;
	*pp = t->next;
	free(t->key);
	free(t->rule);
	free(t->target);
	free(t->vm);
	free(t->series);
	free(t);
}

static const struct hx_alert_rule *
rule_find(struct alerts *a, const char *name)
{
	size_t i;

	for (i = 0; i < a->nrules; i++) {
		if (strcmp(a->rules[i].name, name) == 0)
			return &a->rules[i];
	}
	return NULL;
}

/* --- events and episodes --------------------------------------------------- */

/*
 * The one hand-off to notification delivery: an episode started
 * (NOTIFY_ALERT_TRIGGERED) or ended (NOTIFY_ALERT_RESOLVED); e is the
 * event as the alerts topic carries it, and its data object is the
 * webhook's body. rule is NULL when the rule is gone: nobody to tell.
 * Each episode is told twice, at its start and at its end (there are no
 * reminders while it fires, so an acknowledgement has none to stop; it
 * is recorded and shown). notify_post only queues: a dead or slow
 * receiver never holds this thread.
 */
static void
alert_notify(struct alerts *a, const struct hx_alert_rule *rule,
    const struct track *t, enum notify_kind kind, enum hx_event_type type,
    const struct hx_ev_alert *e, int64_t ts)
{
	struct notify_msg m;
	size_t		  i;

	if (rule == NULL || rule->nnotify == 0 || a->notify == NULL)
		return;
	memset(&m, 0, sizeof m);
	m.kind = kind;
	m.event = hx_proto_encode(type, e, ts);
	for (i = 0; i < rule->nnotify; i++) {
		if (notify_post(a->notify, rule->notify[i], &m) != 0)
			log_warn("alert %s: notification to '%s' dropped "
				 "(queue full)",
			    t->alert_id, rule->notify[i]);
	}
	json_decref(m.event);
}

static void
post_event(struct alerts *a, enum hx_event_type type,
    const struct hx_ev_alert *e, const char *vm, int64_t ts)
{
	mailbox_post(a->mb,
	    frame_new(hx_events[type].type, hx_proto_encode(type, e, ts),
		HX_TOPIC_ALERTS, NULL, vm));
}

static void
fire(struct alerts *a, const struct hx_alert_rule *r, struct track *t,
    int64_t ts)
{
	struct hx_store_alert rec;
	struct hx_ev_alert    e;
	unsigned char	      rnd[8];
	char		     *msg, *err = NULL;
	size_t		      i;

	if (hx_random_bytes(rnd, sizeof rnd) != 0)
		memset(rnd, 0, sizeof rnd);
	for (i = 0; i < sizeof rnd; i++)
		snprintf(t->alert_id + 2 * i, 3, "%02x", rnd[i]);
	if (r->series != NULL)
		msg = xasprintf("%s is %.2f, %s %g", t->series, t->t.value,
		    hx_alert_op_name(r->op), r->threshold);
	else
		msg = xasprintf("%s is %s", t->target, r->equals);
	memset(&rec, 0, sizeof rec);
	rec.alert_id = t->alert_id;
	rec.rule_name = r->name;
	rec.severity = r->severity;
	rec.target = t->target;
	rec.vm = t->vm;
	rec.track = t->key;
	rec.series = t->series;
	rec.message = msg;
	rec.value = t->t.value;
	rec.threshold = r->threshold;
	rec.peak = t->t.peak;
	rec.started_at = ts;
	if (hx_store_alert_insert(a->st, &rec, &err) != HX_STORE_OK) {
		log_error("alerts: cannot record '%s': %s", t->alert_id, err);
		free(err);
	}
	t->acked = 0;
	e = (struct hx_ev_alert){ t->alert_id, r->name, r->severity, t->target,
		msg, t->t.value, r->threshold, -1 };
	post_event(a, HX_EV_ALERT_TRIGGERED, &e, t->vm, ts);
	log_info("alert %s: %s on %s: %s", t->alert_id, r->name, t->target,
	    msg);
	alert_notify(a, r, t, NOTIFY_ALERT_TRIGGERED, HX_EV_ALERT_TRIGGERED, &e,
	    ts);
	free(msg);
}

/* End t's episode (and drop t). r may be NULL: the rule is gone. */
static void
resolve(struct alerts *a, const struct hx_alert_rule *r, struct track *t,
    int64_t ts)
{
	struct hx_ev_alert e;
	char		  *err = NULL;

	if (hx_store_alert_resolve(a->st, t->alert_id, ts, t->t.peak,
		t->t.value, &err) != HX_STORE_OK) {
		log_error("alerts: cannot record '%s' resolved: %s",
		    t->alert_id, err);
		free(err);
	}
	memset(&e, 0, sizeof e);
	e.alert_id = t->alert_id;
	e.rule_name = t->rule;
	e.target = t->target;
	e.value = e.threshold = NAN;
	e.seq = -1; /* given by the service thread (frame_set_seq) */
	post_event(a, HX_EV_ALERT_RESOLVED, &e, t->vm, ts);
	log_info("alert %s resolved: %s on %s", t->alert_id, t->rule,
	    t->target);
	alert_notify(a, r, t, NOTIFY_ALERT_RESOLVED, HX_EV_ALERT_RESOLVED, &e,
	    ts);
	track_drop(a, t);
}

/*
 * One observation of subject under rule r: key names the target for the
 * state (a VM by UUID), target/vm/series describe it.
 */
static void
observe(struct alerts *a, const struct hx_alert_rule *r, const char *key,
    const char *target, const char *vm, const char *series, int holds,
    int cleared, double v, int64_t ts)
{
	struct track *t;
	char	     *k = xasprintf("%s\x1f%s", r->name, key);

	if ((t = track_find(a, k)) == NULL) {
		if (!holds) {
			free(k);
			return;
		}
		t = track_add(a, k, r->name);
	}
	free(k);
	/* The newest name: a renamed VM keeps its state. */
	if (t->target == NULL || strcmp(t->target, target) != 0) {
		free(t->target);
		t->target = xstrdup(target);
		free(t->vm);
		t->vm = vm != NULL ? xstrdup(vm) : NULL;
	}
	if (t->series == NULL && series != NULL)
		t->series = xstrdup(series);
	switch (hx_alert_step(r, &t->t, holds, cleared, v, ts)) {
	case HX_ALERT_FIRED:
		fire(a, r, t, ts);
		break;
	case HX_ALERT_RESOLVED:
		resolve(a, r, t, ts);
		break;
	default:
		if (t->t.phase == HX_ALERT_IDLE)
			track_drop(a, t);
		break;
	}
}

/* What one series of a sample is compared with. */
struct seval {
	struct alerts *a;
	const char    *prefix; /* "node", "vm:NAME" */
	const char    *keyprefix; /* "node", "vm:UUID" */
	const char    *target;
	const char    *vm;
	int64_t	       ts;
};

static void
eval_series(struct alerts *a, const struct seval *s, const char *name, double v)
{
	const struct hx_alert_rule *r;
	const struct apply	   *ap;
	char			   *key;
	size_t			    i;

	if (isnan(v))
		return;
	ap = apply_get(a, name, 0);
	for (i = 0; i < ap->n; i++) {
		r = &a->rules[ap->idx[i]];
		key = xasprintf("%s%s", s->keyprefix, name + strlen(s->prefix));
		observe(a, r, key, s->target, s->vm, name, hx_alert_holds(r, v),
		    hx_alert_cleared(r, v), v, s->ts);
		free(key);
	}
}

static void
vm_point(const char *name, double v, void *arg)
{
	const struct seval *s = arg;

	eval_series(s->a, s, name, v);
}

/*
 * A VM left this host (undefined, or migrated away): its episodes end,
 * since no sample or status will ever end them.
 */
static void
vm_gone(struct alerts *a, const char *name, int64_t ts)
{
	struct track *t, *next;
	size_t	      b;

	for (b = 0; b < TRACK_BUCKETS; b++) {
		for (t = a->tracks[b]; t != NULL; t = next) {
			next = t->next;
			if (t->vm == NULL || strcmp(t->vm, name) != 0)
				continue;
			if (t->t.phase == HX_ALERT_FIRING)
				resolve(a, rule_find(a, t->rule), t, ts);
			else
				track_drop(a, t);
		}
	}
}

static void
eval_item(struct alerts *a, struct aitem *it)
{
	const struct hx_alert_rule *r;
	const struct apply	   *ap;
	struct seval		    s;
	char			   *target, *prefix, *keyprefix, *key;
	const char		   *name;
	size_t			    i;
	int			    holds;

	switch (it->kind) {
	case AI_NODE:
		hx_strlcpy(a->host, it->host, sizeof a->host);
		target = xasprintf("node:%s", it->host);
		s = (struct seval){ a, "node", "node", target, NULL, it->ts };
		for (i = 0; i < it->npts; i++)
			eval_series(a, &s, it->pts[i].name, it->pts[i].v);
		free(target);
		break;
	case AI_VM:
		name = it->vm->name != NULL ? it->vm->name : it->vm->vm_id;
		if (name == NULL)
			break;
		target = xasprintf("vm:%s", name);
		prefix = target;
		keyprefix = xasprintf("vm:%s",
		    it->vm->uuid != NULL ? it->vm->uuid : name);
		s = (struct seval){ a, prefix, keyprefix, target, name,
			it->ts };
		hx_alert_walk(0, prefix, &it->vm->m, vm_point, &s);
		free(keyprefix);
		free(target);
		break;
	case AI_STATUS:
		if (strcmp(it->state, ALERT_VM_GONE) == 0) {
			vm_gone(a, it->name, it->ts);
			break;
		}
		target = xasprintf("vm:%s", it->name);
		key = xasprintf("status:%s", it->name);
		ap = apply_get(a, target, 1);
		for (i = 0; i < ap->n; i++) {
			r = &a->rules[ap->idx[i]];
			holds = strcmp(it->state, r->equals) == 0;
			observe(a, r, key, target, it->name, NULL, holds,
			    !holds, NAN, it->ts);
		}
		free(key);
		free(target);
		break;
	}
}

/* --- rules ----------------------------------------------------------------- */

static void
rules_free(struct hx_alert_rule *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		hx_alert_rule_release(&v[i]);
	free(v);
}

/*
 * Load the rules from the database; then end every episode whose rule is
 * gone or disabled (a rule may not leave an alert firing forever).
 */
static int
rules_load(struct alerts *a, char **err)
{
	struct hx_store_strv  names, docs;
	struct hx_alert_rule *v;
	struct track	     *t, *next;
	const char	     *field;
	json_t		     *o;
	char		     *perr;
	size_t		      i, n = 0, b;
	int		      rc;

	if ((rc = hx_store_alert_rules(a->st, &names, &docs, err)) !=
	    HX_STORE_OK)
		return -1;
	v = xcalloc(names.n + 1, sizeof *v);
	for (i = 0; i < names.n; i++) {
		o = json_loads(docs.v[i], 0, NULL);
		if (hx_alert_rule_parse(o, names.v[i], &v[n], &field, &perr) ==
		    0)
			n++;
		else {
			log_warn("alert rule '%s' skipped: %s", names.v[i],
			    perr);
			free(perr);
		}
		json_decref(o);
	}
	hx_store_strv_release(&names);
	hx_store_strv_release(&docs);
	/* Other threads read them under mu (alerts_rule_json). */
	pthread_mutex_lock(&a->mu);
	rules_free(a->rules, a->nrules);
	a->rules = v;
	a->nrules = n;
	a->gen++;
	pthread_mutex_unlock(&a->mu);
	for (b = 0; b < TRACK_BUCKETS; b++) {
		for (t = a->tracks[b]; t != NULL; t = next) {
			const struct hx_alert_rule *r = rule_find(a, t->rule);

			next = t->next;
			if (r != NULL && r->enabled)
				continue;
			if (t->t.phase == HX_ALERT_FIRING)
				resolve(a, r, t, hx_wall_ms());
			else
				track_drop(a, t);
		}
	}
	return 0;
}

json_t *
alerts_rule_json(struct alerts *a, const char *name)
{
	json_t *o = NULL;
	size_t	i;

	pthread_mutex_lock(&a->mu);
	for (i = 0; i < a->nrules; i++) {
		if (strcmp(a->rules[i].name, name) == 0) {
			o = hx_alert_rule_json(&a->rules[i]);
			break;
		}
	}
	pthread_mutex_unlock(&a->mu);
	return o;
}

/* Firing episodes from the database: firing again, not announced again. */
static void
restore(struct alerts *a)
{
	struct hx_store_alert_list l;
	struct track		  *t;
	char			  *err = NULL;
	size_t			   i;

	if (hx_store_alert_list(a->st, HX_STORE_ALERT_FIRING, 0, &l, &err) !=
	    HX_STORE_OK) {
		log_error("alerts: cannot read firing alerts: %s", err);
		free(err);
		return;
	}
	for (i = 0; i < l.n; i++) {
		t = track_add(a, l.v[i].track, l.v[i].rule_name);
		t->t.phase = HX_ALERT_FIRING;
		t->t.peak = l.v[i].peak;
		t->t.value = l.v[i].value;
		t->t.pending_ms = l.v[i].started_at;
		hx_strlcpy(t->alert_id, l.v[i].alert_id, sizeof t->alert_id);
		t->target = xstrdup(l.v[i].target);
		t->vm = l.v[i].vm != NULL ? xstrdup(l.v[i].vm) : NULL;
		t->series = l.v[i].series ? xstrdup(l.v[i].series) : NULL;
		t->acked = l.v[i].acked_at != 0;
		log_info("alert %s restored: %s on %s, firing since %lld",
		    t->alert_id, t->rule, t->target,
		    (long long)l.v[i].started_at);
	}
	hx_store_alert_list_release(&l);
}

/* --- the thread ------------------------------------------------------------ */

static void
run_job(struct alerts *a, struct job *j)
{
	struct worker_env env;

	memset(&env, 0, sizeof env);
	env.store = a->st;
	j->run(j, &env);
	mailbox_post_job(a->mb, j);
}

static void
purge(struct alerts *a)
{
	int64_t n = 0;
	char   *err = NULL;

	if (hx_store_alert_purge(a->st, hx_wall_ms() - ALERT_KEEP_MS, &n,
		&err) != HX_STORE_OK) {
		log_error("alerts: cannot expire old alerts: %s", err);
		free(err);
	} else if (n > 0)
		log_info("alerts: %lld episode(s) older than 90 days deleted",
		    (long long)n);
}

static void *
alerts_main(void *arg)
{
	struct alerts  *a = arg;
	struct aitem   *list, *it, *next;
	struct timespec ts;
	uint64_t	due = hx_mono_ns() + 60ULL * 1000000000ULL;
	int		stop, logged = 0;

	/* Named for top -H and the benchmarks (bench/alerts). */
	pthread_setname_np(pthread_self(), "hx-alert");
	for (;;) {
		ts.tv_sec = (time_t)(due / 1000000000ULL);
		ts.tv_nsec = (long)(due % 1000000000ULL);
		pthread_mutex_lock(&a->mu);
		while (!a->stop && a->head == NULL &&
		    pthread_cond_timedwait(&a->cv, &a->mu, &ts) != ETIMEDOUT)
			;
		list = a->head;
		a->head = a->tail = NULL;
		a->n = 0;
		stop = a->stop;
		if (a->dropped > 0 && !logged) {
			log_warn("alerts: %llu sample(s) dropped: the alert "
				 "thread is behind",
			    (unsigned long long)a->dropped);
			logged = 1;
		}
		pthread_mutex_unlock(&a->mu);
		for (it = list; it != NULL; it = next) {
			next = it->next;
			if (it->kind == AI_JOB && !stop) {
				run_job(a, it->job);
				it->job = NULL;
				pthread_mutex_lock(&a->mu);
				a->njobs--;
				pthread_mutex_unlock(&a->mu);
			} else if (!stop)
				eval_item(a, it);
			item_free(it);
		}
		if (stop)
			break;
		if (hx_mono_ns() >= due) {
			purge(a);
			due = hx_mono_ns() + ALERT_PURGE_NS;
		}
	}
	return NULL;
}

struct alerts *
alerts_start(const struct options *opts, const char *db_path,
    struct mailbox *mb, struct notify *notify, char **err)
{
	struct alerts	  *a = xcalloc(1, sizeof *a);
	pthread_condattr_t ca;

	(void)opts;
	a->mb = mb;
	a->notify = notify;
	pthread_mutex_init(&a->mu, NULL);
	/* alerts_main's deadline is on the monotonic clock. */
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&a->cv, &ca);
	pthread_condattr_destroy(&ca);
	if (hx_store_open(db_path, &a->st, err) != HX_STORE_OK ||
	    rules_load(a, err) != 0) {
		alerts_stop(a);
		return NULL;
	}
	restore(a);
	/* A restored episode whose rule is gone ends now. */
	if (rules_load(a, err) != 0) {
		alerts_stop(a);
		return NULL;
	}
	if (pthread_create(&a->thread, NULL, alerts_main, a) != 0) {
		*err = xstrdup("cannot start the alert thread");
		alerts_stop(a);
		return NULL;
	}
	a->started = 1;
	return a;
}

void
alerts_stop(struct alerts *a)
{
	struct aitem *it, *next;
	struct track *t, *tn;
	size_t	      b;

	if (a == NULL)
		return;
	if (a->started) {
		pthread_mutex_lock(&a->mu);
		a->stop = 1;
		pthread_cond_signal(&a->cv);
		pthread_mutex_unlock(&a->mu);
		pthread_join(a->thread, NULL);
	}
	for (it = a->head; it != NULL; it = next) {
		next = it->next;
		item_free(it);
	}
	for (b = 0; b < TRACK_BUCKETS; b++) {
		for (t = a->tracks[b]; t != NULL; t = tn) {
			tn = t->next;
			track_drop(a, t);
		}
	}
	rules_free(a->rules, a->nrules);
	apply_clear(a);
	hx_store_close(a->st);
	pthread_mutex_destroy(&a->mu);
	pthread_cond_destroy(&a->cv);
	free(a);
}

/* --- jobs ------------------------------------------------------------------ */

static void
aright_free(void *p)
{
	struct aright *r = p;
	size_t	       i;

	for (i = 0; i < r->nsee; i++)
		free(r->see[i]);
	for (i = 0; i < r->nack; i++)
		free(r->ack[i]);
	free(r->see);
	free(r->ack);
	free(r);
}

int
alerts_submit(struct alerts *a, struct job *j, const struct identity *id,
    const struct snapshot *snap)
{
	struct aright *r = xcalloc(1, sizeof *r);
	struct aitem  *it;
	json_t	      *inv, *e;
	const char    *name;
	char	      *path;
	size_t	       i;

	r->a = a;
	hx_strlcpy(r->who, id->who, sizeof r->who);
	r->node_see = access_allowed(id, HX_PRIV_SYS_AUDIT, "/nodes");
	r->node_ack = access_allowed(id, HX_PRIV_SYS_MODIFY, "/nodes");
	r->vms_see = access_allowed(id, HX_PRIV_VM_AUDIT, "/vms");
	r->vms_ack = access_allowed(id, HX_PRIV_VM_POWER_MGMT, "/vms");
	if ((inv = snapshot_inventory(snap)) != NULL) {
		r->see = xcalloc(json_array_size(inv) + 1, sizeof *r->see);
		r->ack = xcalloc(json_array_size(inv) + 1, sizeof *r->ack);
		json_array_foreach(inv, i, e) {
			if ((name = json_string_value(
				 json_object_get(e, "id"))) == NULL)
				continue;
			path = hx_rbac_path_fill("/vms/{id}", name);
			if (access_allowed(id, HX_PRIV_VM_AUDIT, path))
				r->see[r->nsee++] = xstrdup(name);
			if (access_allowed(id, HX_PRIV_VM_POWER_MGMT, path))
				r->ack[r->nack++] = xstrdup(name);
			free(path);
		}
	}
	j->ctx = r;
	j->ctx_free = aright_free;
	it = xcalloc(1, sizeof *it);
	it->kind = AI_JOB;
	it->job = j;
	if (enqueue(a, it) != 0) {
		it->job = NULL;
		item_free(it);
		return -1;
	}
	return 0;
}

static int
in_list(char **v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(v[i], s) == 0)
			return 1;
	}
	return 0;
}

/* May the caller see (ack: acknowledge) episode e? */
static int
may(const struct aright *r, const struct hx_store_alert *e, int ack)
{
	if (e->vm == NULL)
		return ack ? r->node_ack : r->node_see;
	if (ack)
		return r->vms_ack || in_list(r->ack, r->nack, e->vm);
	return r->vms_see || in_list(r->see, r->nsee, e->vm);
}

static json_t *
ms_json(int64_t ms)
{
	char ts[40];

	if (ms <= 0 || hx_rfc3339_ms(ms, ts, sizeof ts) != 0)
		return json_null();
	return json_string(ts);
}

static json_t *
episode_json(const struct hx_store_alert *e)
{
	json_t *o = json_object();

	json_object_set_new(o, "alert_id", json_string(e->alert_id));
	json_object_set_new(o, "rule_name", json_string(e->rule_name));
	json_object_set_new(o, "severity", json_string(e->severity));
	json_object_set_new(o, "target", json_string(e->target));
	json_object_set_new(o, "state",
	    json_string(e->resolved_at != 0 ? "resolved" : "firing"));
	json_object_set_new(o, "series",
	    e->series ? json_string(e->series) : json_null());
	json_object_set_new(o, "message",
	    e->message ? json_string(e->message) : json_null());
	json_object_set_new(o, "value", hx_json_real(e->value, 2));
	json_object_set_new(o, "threshold", hx_json_real(e->threshold, 2));
	json_object_set_new(o, "peak", hx_json_real(e->peak, 2));
	json_object_set_new(o, "started_at", ms_json(e->started_at));
	json_object_set_new(o, "resolved_at", ms_json(e->resolved_at));
	json_object_set_new(o, "acked_by",
	    e->acked_by ? json_string(e->acked_by) : json_null());
	json_object_set_new(o, "acked_at", ms_json(e->acked_at));
	json_object_set_new(o, "comment",
	    e->comment ? json_string(e->comment) : json_null());
	return o;
}

/* The value of key in the query string (a copy; caller frees), or NULL. */
static char *
query_get(const char *q, const char *key)
{
	size_t	    kl = strlen(key);
	const char *p = q, *end;

	while (p != NULL && *p != '\0') {
		end = strchr(p, '&');
		if (strncmp(p, key, kl) == 0 && p[kl] == '=')
			return end ? xstrndup(p + kl + 1,
					 (size_t)(end - p - (long)kl - 1)) :
				     xstrdup(p + kl + 1);
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

void
job_alert_list(struct job *j, const struct worker_env *env)
{
	const struct aright	  *r = j->ctx;
	struct hx_store_alert_list l;
	enum hx_store_alert_state  state = HX_STORE_ALERT_FIRING;
	json_t			  *arr;
	char			  *s, *err = NULL;
	size_t			   i;
	int			   rc;

	s = j->query ? query_get(j->query, "state") : NULL;
	if (s == NULL || strcmp(s, "firing") == 0)
		state = HX_STORE_ALERT_FIRING;
	else if (strcmp(s, "resolved") == 0)
		state = HX_STORE_ALERT_RESOLVED;
	else if (strcmp(s, "all") == 0)
		state = HX_STORE_ALERT_ALL;
	else {
		free(s);
		job_error(j, 400, "BAD_REQUEST",
		    "state must be firing, resolved or all");
		return;
	}
	free(s);
	if ((rc = hx_store_alert_list(env->store, state, 0, &l, &err)) !=
	    HX_STORE_OK) {
		job_store_error(j, rc, err);
		free(err);
		return;
	}
	arr = json_array();
	for (i = 0; i < l.n && json_array_size(arr) < ALERT_LIST_MAX; i++) {
		if (may(r, &l.v[i], 0))
			json_array_append_new(arr, episode_json(&l.v[i]));
	}
	hx_store_alert_list_release(&l);
	j->status = 200;
	j->reply = json_pack("{s:o}", "alerts", arr);
}

void
job_alert_ack(struct job *j, const struct worker_env *env)
{
	const struct aright  *r = j->ctx;
	struct alerts	     *a = r->a;
	struct hx_store_alert e;
	struct track	     *t;
	json_t		     *c = json_object_get(j->body, "comment");
	char		     *err = NULL;
	size_t		      b;
	int		      rc;

	if (c != NULL && !json_is_null(c) &&
	    (!json_is_string(c) || strlen(json_string_value(c)) > 1024)) {
		job_error(j, 422, "VALIDATION_ERROR",
		    "'comment': must be a string of at most 1024 bytes");
		return;
	}
	rc = hx_store_alert_get(env->store, j->param[0], &e, &err);
	/* Not found and not visible read the same: no oracle. */
	if (rc == HX_STORE_OK && !may(r, &e, 0)) {
		free(err);
		err = xstrdup("alert not found");
		rc = HX_STORE_NOT_FOUND;
	} else if (rc == HX_STORE_NOT_FOUND) {
		free(err);
		err = xstrdup("alert not found");
	}
	if (rc != HX_STORE_OK) {
		job_store_error(j, rc, err);
		free(err);
		hx_store_alert_release(&e);
		return;
	}
	if (!may(r, &e, 1)) {
		job_error(j, 403, "FORBIDDEN",
		    e.vm == NULL ? "insufficient privileges: SysModify on "
				   "/nodes needed" :
				   "insufficient privileges: VmPowerMgmt on "
				   "the VM needed");
		hx_store_alert_release(&e);
		return;
	}
	hx_store_alert_release(&e);
	if ((rc = hx_store_alert_ack(env->store, j->param[0], r->who,
		 hx_wall_ms(), json_string_value(c), &err)) != HX_STORE_OK ||
	    (rc = hx_store_alert_get(env->store, j->param[0], &e, &err)) !=
		HX_STORE_OK) {
		job_store_error(j, rc, err);
		free(err);
		return;
	}
	/* The episode in memory knows it was acknowledged. */
	for (b = 0; b < TRACK_BUCKETS; b++) {
		for (t = a->tracks[b]; t != NULL; t = t->next) {
			if (t->t.phase == HX_ALERT_FIRING &&
			    strcmp(t->alert_id, e.alert_id) == 0) {
				t->acked = 1;
			}
		}
	}
	log_info("alert %s acknowledged by %s", e.alert_id, r->who);
	job_audit_write(env, j, "alert.ack", e.alert_id, e.target);
	j->status = 200;
	j->reply = episode_json(&e);
	hx_store_alert_release(&e);
}

void
job_alert_rules(struct job *j, const struct worker_env *env)
{
	const struct aright *r = j->ctx;
	json_t		    *arr = json_array();
	size_t		     i;

	(void)env;
	for (i = 0; i < r->a->nrules; i++)
		json_array_append_new(arr, hx_alert_rule_json(&r->a->rules[i]));
	j->status = 200;
	j->reply = json_pack("{s:o}", "rules", arr);
}

void
job_alert_rule_get(struct job *j, const struct worker_env *env)
{
	const struct aright	   *r = j->ctx;
	const struct hx_alert_rule *rule = rule_find(r->a, j->param[0]);

	(void)env;
	if (rule == NULL) {
		job_error(j, 404, "NOT_FOUND", "no such alert rule");
		return;
	}
	j->status = 200;
	j->reply = hx_alert_rule_json(rule);
}

/* Validate the body, store it (create or replace), reload the rules. */
static void
rule_write(struct job *j, const struct worker_env *env, int create)
{
	const struct aright *r = j->ctx;
	struct hx_alert_rule rule;
	const char	    *field;
	json_t		    *o;
	char		    *err = NULL, *doc;
	int		     rc;

	if (hx_alert_rule_parse(j->body, create ? NULL : j->param[0], &rule,
		&field, &err) != 0) {
		j->status = 422;
		j->reply = json_pack("{s:s,s:s,s:s}", "error",
		    "VALIDATION_ERROR", "message", err, "field", field);
		free(err);
		return;
	}
	o = hx_alert_rule_json(&rule);
	doc = json_dumps(o, JSON_COMPACT);
	rc = hx_store_alert_rule_put(env->store, rule.name, doc, create, &err);
	free(doc);
	if (rc != HX_STORE_OK) {
		json_decref(o);
		hx_alert_rule_release(&rule);
		job_store_error(j, rc, err);
		free(err);
		return;
	}
	log_info("alert rule '%s' %s by %s", rule.name,
	    create ? "added" : "changed", r->who);
	job_audit_write(env, j, create ? "alert.rule.add" : "alert.rule.modify",
	    rule.name, NULL);
	hx_alert_rule_release(&rule);
	if (rules_load(r->a, &err) != 0) {
		log_error("alerts: cannot reload rules: %s", err);
		free(err);
	}
	j->status = create ? 201 : 200;
	j->reply = o;
}

void
job_alert_rule_add(struct job *j, const struct worker_env *env)
{
	rule_write(j, env, 1);
}

void
job_alert_rule_put(struct job *j, const struct worker_env *env)
{
	rule_write(j, env, 0);
}

void
job_alert_rule_delete(struct job *j, const struct worker_env *env)
{
	const struct aright *r = j->ctx;
	char		    *err = NULL;
	int		     rc;

	if ((rc = hx_store_alert_rule_delete(env->store, j->param[0], &err)) !=
	    HX_STORE_OK) {
		job_store_error(j, rc, err);
		free(err);
		return;
	}
	log_info("alert rule '%s' deleted by %s", j->param[0], r->who);
	job_audit_write(env, j, "alert.rule.delete", j->param[0], NULL);
	if (rules_load(r->a, &err) != 0) {
		log_error("alerts: cannot reload rules: %s", err);
		free(err);
	}
	j->status = 204;
	j->reply = NULL;
}
