/*
 * hx-virt.h - libvirt domain sampling and the VM REST documents.
 *
 * A sampler turns one libvirt connection's active domains into VmMetrics
 * samples with rates: it keeps each domain's previous counters (keyed by
 * UUID, together with the domain's id, so a restart is noticed) and
 * measures intervals on the monotonic clock the caller passes in. It asks
 * virConnectGetAllDomainStats first and falls back, group by group and
 * domain by domain, to the per-domain calls where the driver leaves a
 * group out (the test driver answers only "state" in bulk). Values the
 * driver does not give, the first sample's rates and any rate whose
 * counter went backwards are NaN (doubles) or -1 (counts): nothing is
 * ever invented.
 *
 * This module owns no connection, no thread, no socket and no lock, and
 * never prints: the daemon calls it from its collector thread (sampling)
 * and its REST workers (documents) with a virConnectPtr it owns. One
 * sampler belongs to one connection and one thread. libvirt's default
 * error handler prints to stderr; the program that owns the connections
 * installs its own with virSetErrorFunc().
 */
#ifndef HX_VIRT_H
#define HX_VIRT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <libvirt/libvirt.h>

#include "hx-event.h"

/*
 * One disk or NIC: its cumulative byte counters (-1: unreadable) and
 * their rates (NaN). a is read (disk) or received (NIC), b written or
 * sent, as in struct hx_virt_ctr below.
 */
struct hx_vm_dev {
	char   *target; /* "vda", or the host-side "vnet0" */
	int64_t a;
	int64_t b;
	double	a_bps;
	double	b_bps;
};

/*
 * One domain in one sample. m.vm_id and m.name point at vm_id and name
 * below; m's counters are the sums over disks and nics (-1 when none of
 * them could be read) and its rates the sums of the devices' rates.
 * m.memory_bytes is hx_virt_memory_used() and m.memory_usage its share
 * of m.memory_max_bytes, not clamped: a QEMU process's RSS includes its
 * own overhead and can pass the guest's maximum.
 */
struct hx_vm_sample {
	struct hx_vm_metrics m;
	int64_t		     timestamp_ms; /* wall clock when sampled */
	char		    *vm_id; /* the domain name */
	char		    *name;
	char		    *uuid;
	const char	    *state; /* static: hx_virt_state_word() */
	struct hx_vm_dev    *disks;
	size_t		     ndisks;
	struct hx_vm_dev    *nics;
	size_t		     nnics;
};

struct hx_virt_sampler;

/* Create a sampler (never NULL); free it with hx_virt_sampler_free. */
struct hx_virt_sampler *hx_virt_sampler_new(void);
/* Free a sampler and every baseline it holds; NULL is a no-op. */
void hx_virt_sampler_free(struct hx_virt_sampler *s);

/*
 * Sample every active domain of conn (running, paused, and the other
 * states a live domain can be in; each sample says which) at monotonic
 * time now_ns (hx_mono_ns()). On success returns 0 with *out an array of
 * *n samples (possibly 0 and NULL) that the caller frees with
 * hx_vm_samples_free. Returns -1 with *err set (caller frees) and *out
 * NULL when the domains cannot be listed at all (a dead connection); the
 * baselines are then kept for the next call. A domain that stops or
 * vanishes during the call is left out. Baselines of domains that are no
 * longer active are dropped, so a domain that comes back starts afresh,
 * as does one whose id changed between two calls (it was restarted).
 */
int hx_virt_sample(struct hx_virt_sampler *s, virConnectPtr conn,
    uint64_t now_ns, struct hx_vm_sample **out, size_t *n, char **err);

/* Free n samples and the array; NULL is a no-op. */
void hx_vm_samples_free(struct hx_vm_sample *v, size_t n);

/* A deep copy of one sample; free it with hx_vm_samples_free(d, 1). */
struct hx_vm_sample *hx_vm_sample_dup(const struct hx_vm_sample *s);

/*
 * The DESIGN §3 status word of a virDomainState: running (also for
 * BLOCKED), paused, shutdown, stopped (SHUTOFF), crashed, suspended
 * (PMSUSPENDED), unknown (NOSTATE and anything else). Static storage.
 */
const char *hx_virt_state_word(int state);

/*
 * The document of GET /api/vms/:id: {id, name, uuid, state, vcpus,
 * memory_bytes (current allocation), memory_max_bytes, autostart,
 * persistent, disks:[{target, source, bus, device, read_bytes,
 * write_bytes, read_bps, write_bps}], nics:[{target, mac, model, type,
 * source, rx_bytes, tx_bytes, rx_bps, tx_bps}], metrics}; the devices'
 * counters and rates come from latest, matched by target. Keys are always present; a value that
 * cannot be read, or a device attribute the XML lacks, is null. metrics
 * is the VmMetrics data of latest (which must be this domain's sample;
 * NULL, or a stopped domain, gives null). Returns a new object (caller
 * decrefs), or NULL with *err set (caller frees) when the domain cannot
 * be read (it was undefined, the connection died) or latest belongs to
 * another domain.
 */
json_t *hx_virt_domain_json(virDomainPtr dom, const struct hx_vm_sample *latest,
    char **err);

/*
 * One entry of GET /api/vms: {id, name, uuid, state, vcpus,
 * memory_max_bytes}. Returns a new object (caller decrefs), or NULL with
 * *err set (caller frees) when the domain cannot be read.
 */
json_t *hx_virt_domain_summary_json(virDomainPtr dom, char **err);

/*
 * The rate math, exported so it can be tested with synthetic numbers.
 * Counters are int64_t with -1 meaning unknown, as in hx_vm_metrics.
 */

/*
 * Bytes per second from prev to cur over dt_ns. NaN when either is
 * unknown, dt_ns is 0, or cur < prev (the counter restarted: the rate
 * restarts with the next sample instead of showing a negative spike).
 */
double hx_virt_rate(int64_t prev, int64_t cur, uint64_t dt_ns);

/*
 * Percent of vcpus busy from cumulative CPU times (ns) over dt_ns,
 * clamped to 0..100 (the driver's cpu.time includes emulator threads and
 * its clock is not ours). NaN when vcpus is 0, dt_ns is 0, or
 * cur_ns < prev_ns.
 */
double hx_virt_cpu_usage(uint64_t prev_ns, uint64_t cur_ns, uint64_t vcpus,
    uint64_t dt_ns);

/* A device's pair of cumulative counters; -1 where unknown. */
struct hx_virt_ctr {
	const char *name;
	int64_t	    a; /* read / rx */
	int64_t	    b; /* written / tx */
};

/*
 * Rates of one family of device counters (a domain's disks or its NICs)
 * over dt_ns, matching cur to prev by name. each_a and each_b (ncur
 * entries each, or NULL) get every device's rates; a device new since
 * prev, or unknown, has NaN. *sum_a and *sum_b get the sums over the
 * devices that have a rate, or NaN when none has one or when any device
 * went backwards (summing only the others would show a dip, not the
 * truth).
 */
void hx_virt_ctrs_rate(const struct hx_virt_ctr *prev, size_t nprev,
    const struct hx_virt_ctr *cur, size_t ncur, uint64_t dt_ns, double *each_a,
    double *each_b, double *sum_a, double *sum_b);

/* Balloon readings in KiB, as libvirt reports them; -1 where not reported. */
struct hx_virt_balloon {
	int64_t current; /* balloon.current, ACTUAL_BALLOON */
	int64_t maximum; /* balloon.maximum, maxMem */
	int64_t rss; /* host RSS of the VM process */
	int64_t unused; /* guest MemFree */
	int64_t available; /* guest MemTotal */
	int64_t usable; /* guest MemAvailable */
};

/*
 * Memory in use, in bytes: rss if reported, else current - unused, else
 * available - usable (the guest's MemTotal - MemAvailable, as the host
 * sampler computes its own). -1 when none of these can be worked out:
 * current alone is the allocation, not use, and is never passed off as it.
 */
int64_t hx_virt_memory_used(const struct hx_virt_balloon *b);

#endif
