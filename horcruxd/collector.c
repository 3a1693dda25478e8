/*
 * collector.c - the host sampling thread (see collector.h).
 *
 * Ticks are scheduled on absolute monotonic deadlines, so the cadence does
 * not drift by the time a sample takes; a tick that is late (the machine
 * was suspended, the thread starved) is skipped rather than bunched up.
 * A failing sample is logged once per distinct message, not every second.
 *
 * The first host sample is made before the daemon serves anything: its
 * baseline is read when the collector is made, early in start-up, and the
 * sample itself just before the thread starts, so GET /api/nodes/local
 * answers from the first request on (a sample needs two /proc readings).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "collector.h"
#include "hx-event.h"
#include "hx-log.h"
#include "hx-node.h"
#include "hx-util.h"
#include "hx-virt.h"
#include "hx-proto.h"
#include "alert.h"
#include "history.h"
#include "virt.h"

/*
 * The least time between the baseline and the first sample: below it a
 * CPU percentage rests on a handful of clock ticks. Start-up usually takes
 * longer than this anyway, so the wait is rarely more than nothing.
 */
#define COLLECTOR_FIRST_SPAN_NS (200ULL * 1000 * 1000)

struct collector {
	pthread_t		thread;
	pthread_mutex_t		mu;
	pthread_cond_t		cv;
	int			stop;
	int			resched; /* intervals changed: new deadlines */
	uint64_t		interval_ns; /* both under mu once started */
	uint64_t		vm_interval_ns;
	struct hx_node_sampler *ns;
	uint64_t	baseline_ns; /* when the first reading was taken */
	uint64_t	first_ns; /* when the first sample was posted */
	struct mailbox *mb;
	char	       *last_error;
	struct virt    *virt;
	struct hx_virt_sampler **vs; /* one per connection */
	size_t			 nvs;
	struct history		*history; /* NULL: history is off */
	struct alerts		*alerts; /* NULL: no alert engine */
	char			 driver[16]; /* NodeMetrics libvirt_driver */
};

/*
 * One VM tick: a VmMetrics frame per active domain (coalesced per VM),
 * posted with the sample it was made of for the service thread's
 * snapshot (GET /api/vms/:id shows its per-device figures), and the
 * inventory of every domain for GET /api/vms, from every connection that
 * is up.
 */
static void
sample_vms(struct collector *c)
{
	struct hx_vm_sample *v;
	virConnectPtr	     conn;
	virDomainPtr	    *doms;
	json_t		    *inv = json_array(), *e;
	char		    *err = NULL, key[320];
	size_t		     i, k, n;
	int		     nd, d;
	uint64_t	     started = hx_mono_ns();

	for (i = 0; i < c->nvs; i++) {
		if ((conn = virt_conn(c->virt, i)) == NULL)
			continue;
		if (hx_virt_sample(c->vs[i], conn, hx_mono_ns(), &v, &n,
			&err) != 0) {
			log_debug("libvirt '%s': %s", virt_uri(c->virt, i),
			    err);
			free(err);
			err = NULL;
			n = 0;
			v = NULL;
		}
		for (k = 0; k < n; k++) {
			snprintf(key, sizeof key, "VmMetrics:%s", v[k].vm_id);
			mailbox_post_vm(c->mb,
			    frame_new("VmMetrics",
				hx_event_vm_metrics(&v[k].m, v[k].timestamp_ms),
				HX_TOPIC_VM_METRICS, key, v[k].vm_id),
			    hx_vm_sample_dup(&v[k]));
			if (c->alerts != NULL)
				alerts_post_vm(c->alerts,
				    hx_vm_sample_dup(&v[k]));
			if (c->history != NULL)
				history_post_vm(c->history,
				    hx_vm_sample_dup(&v[k]));
		}
		hx_vm_samples_free(v, n);
		if ((nd = virConnectListAllDomains(conn, &doms, 0)) >= 0) {
			for (d = 0; d < nd; d++) {
				if ((e = hx_virt_domain_summary_json(doms[d],
					 &err)) != NULL) {
					json_object_set_new(e, "container",
					    json_boolean(
						virt_is_container(c->virt, i,
						    virDomainGetName(
							doms[d]))));
					json_array_append_new(inv, e);
				}
				free(err);
				err = NULL;
				virDomainFree(doms[d]);
			}
			free(doms);
		}
		virConnectClose(conn);
	}
	mailbox_post_inventory(c->mb, inv, started);
}

static void
sample_and_post(struct collector *c)
{
	struct hx_node_metrics m, *nm;
	struct frame	      *f;
	json_t		      *data;
	char		      *err = NULL;

	if (hx_node_sample(c->ns, hx_mono_ns(), &m, &err) != 0) {
		if (c->last_error == NULL || strcmp(c->last_error, err) != 0)
			log_error("host sample failed: %s", err);
		free(c->last_error);
		c->last_error = err;
		return;
	}
	if (c->last_error != NULL) {
		log_info("host sampling works again");
		free(c->last_error);
		c->last_error = NULL;
	}
	hx_strlcpy(m.libvirt_driver, c->driver, sizeof m.libvirt_driver);
	f = frame_new("NodeMetrics", hx_event_node_metrics(&m),
	    HX_TOPIC_NODE_METRICS, "NodeMetrics", NULL);
	/*
	 * The snapshot's typed figures are what the frame's text decodes
	 * to (rounded as sent, as a client reads them), decoded here once
	 * rather than by every reader (GET /metrics) on the service thread.
	 */
	nm = xcalloc(1, sizeof *nm);
	data = json_loadb(frame_text(f) + f->data_off, f->data_len, 0, NULL);
	if (data == NULL || hx_node_metrics_decode(data, nm) != 0) {
		hx_node_metrics_release(nm);
		free(nm);
		nm = NULL;
	}
	json_decref(data);
	mailbox_post_node(c->mb, f, nm);
	alerts_post_node(c->alerts, &m);
	/* The history takes what m holds: no copy. */
	history_post_node(c->history, &m);
	hx_node_metrics_release(&m);
}

enum wait_result {
	WAIT_DUE,
	WAIT_STOP,
	WAIT_RESCHED /* the intervals changed: deadlines to compute again */
};

/*
 * Wait until the monotonic deadline, a stop, or new intervals; on
 * WAIT_RESCHED *iv and *vm_iv are the new intervals.
 */
static enum wait_result
wait_until(struct collector *c, uint64_t deadline_ns, uint64_t *iv,
    uint64_t *vm_iv)
{
	struct timespec	 ts;
	enum wait_result r = WAIT_DUE;

	ts.tv_sec = (time_t)(deadline_ns / 1000000000ULL);
	ts.tv_nsec = (long)(deadline_ns % 1000000000ULL);
	pthread_mutex_lock(&c->mu);
	while (!c->stop && !c->resched &&
	    pthread_cond_timedwait(&c->cv, &c->mu, &ts) != ETIMEDOUT)
		;
	if (c->stop)
		r = WAIT_STOP;
	else if (c->resched) {
		c->resched = 0;
		*iv = c->interval_ns;
		*vm_iv = c->vm_interval_ns;
		r = WAIT_RESCHED;
	}
	pthread_mutex_unlock(&c->mu);
	return r;
}

/*
 * A deadline after the period changed from old to iv: the last tick
 * (deadline - old) plus the new period, or now if that has passed. A
 * shorter period takes effect at once, a longer one from the last tick.
 */
static uint64_t
rescheduled(uint64_t deadline, uint64_t old, uint64_t iv, uint64_t now)
{
	uint64_t last = deadline - old;

	return last + iv > now ? last + iv : now;
}

static void *
collector_main(void *arg)
{
	struct collector *c = arg;
	uint64_t	  next, next_vm, now, iv, vm_iv, niv, nvm_iv;
	enum wait_result  w;

	/* Named for top -H and the benchmarks (bench/history). */
	pthread_setname_np(pthread_self(), "hx-collector");
	pthread_mutex_lock(&c->mu);
	iv = c->interval_ns;
	vm_iv = c->vm_interval_ns;
	c->resched = 0;
	pthread_mutex_unlock(&c->mu);
	next = c->first_ns + iv;
	next_vm = hx_mono_ns();
	for (;;) {
		int vm = c->virt != NULL && next_vm < next;

		w = wait_until(c, vm ? next_vm : next, &niv, &nvm_iv);
		if (w == WAIT_STOP)
			break;
		if (w == WAIT_RESCHED) {
			now = hx_mono_ns();
			next = rescheduled(next, iv, niv, now);
			next_vm = rescheduled(next_vm, vm_iv, nvm_iv, now);
			iv = niv;
			vm_iv = nvm_iv;
			continue;
		}
		if (vm) {
			sample_vms(c);
			now = hx_mono_ns();
			next_vm += vm_iv;
			if (next_vm <= now)
				next_vm = now + vm_iv;
			continue;
		}
		sample_and_post(c);
		now = hx_mono_ns();
		next += iv;
		if (next <= now)
			next = now + iv;
	}
	return NULL;
}

struct collector *
collector_new(const struct options *o)
{
	struct collector      *c = xcalloc(1, sizeof *c);
	struct hx_node_metrics m;
	pthread_condattr_t     ca;
	char		      *err = NULL;

	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cv, &ca);
	pthread_condattr_destroy(&ca);
	c->interval_ns = (uint64_t)(o->node_interval * 1e9);
	c->vm_interval_ns = (uint64_t)(o->vm_interval * 1e9);
	/* "test" of test:///default, "qemu" of qemu+ssh://h/system. */
	if (o->nlibvirt_uris > 0)
		snprintf(c->driver, sizeof c->driver, "%.*s",
		    (int)strcspn(o->libvirt_uris[0], ":+"), o->libvirt_uris[0]);
	if (o->ndisks > 0)
		c->ns = hx_node_sampler_new("", o->disks, o->ndisks);
	else {
		/* disks = auto: what is mounted now. */
		size_t n, k;
		char **mounts = hx_node_real_mounts("", &n);

		c->ns = hx_node_sampler_new("", (const char *const *)mounts, n);
		for (k = 0; k < n; k++)
			free(mounts[k]);
		free(mounts);
	}
	/* The baseline: its figures have no rates yet and are not posted. */
	c->baseline_ns = hx_mono_ns();
	if (hx_node_sample(c->ns, c->baseline_ns, &m, &err) == 0)
		hx_node_metrics_release(&m);
	else
		free(err);
	return c;
}

static void
collector_free(struct collector *c)
{
	size_t i;

	hx_node_sampler_free(c->ns);
	for (i = 0; i < c->nvs; i++)
		hx_virt_sampler_free(c->vs[i]);
	free(c->vs);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c->last_error);
	free(c);
}

int
collector_start(struct collector *c, struct mailbox *mb, struct virt *virt,
    char **err)
{
	struct timespec ts;
	uint64_t	span, now;
	size_t		i;
	int		r;

	c->mb = mb;
	c->virt = virt;
	if (virt != NULL) {
		c->nvs = virt_count(virt);
		c->vs = xcalloc(c->nvs ? c->nvs : 1, sizeof *c->vs);
		for (i = 0; i < c->nvs; i++)
			c->vs[i] = hx_virt_sampler_new();
	}
	span = c->interval_ns < COLLECTOR_FIRST_SPAN_NS ?
	    c->interval_ns :
	    COLLECTOR_FIRST_SPAN_NS;
	while ((now = hx_mono_ns()) < c->baseline_ns + span) {
		ts.tv_sec = 0;
		ts.tv_nsec = (long)(c->baseline_ns + span - now);
		nanosleep(&ts, NULL);
	}
	/* In the mailbox before the service thread first drains it. */
	sample_and_post(c);
	c->first_ns = hx_mono_ns();
	if ((r = pthread_create(&c->thread, NULL, collector_main, c)) != 0) {
		*err = xasprintf("cannot start the collector thread: %s",
		    strerror(r));
		collector_free(c);
		return -1;
	}
	return 0;
}

void
collector_set_history(struct collector *c, struct history *h)
{
	c->history = h;
}

void
collector_set_alerts(struct collector *c, struct alerts *a)
{
	c->alerts = a;
}

void
collector_set_intervals(struct collector *c, double node_s, double vm_s)
{
	pthread_mutex_lock(&c->mu);
	c->interval_ns = (uint64_t)(node_s * 1e9);
	c->vm_interval_ns = (uint64_t)(vm_s * 1e9);
	c->resched = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
}

void
collector_stop(struct collector *c)
{
	if (c == NULL)
		return;
	pthread_mutex_lock(&c->mu);
	c->stop = 1;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	pthread_join(c->thread, NULL);
	collector_free(c);
}
