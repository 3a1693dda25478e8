/*
 * cmd-vm.c - quick looks at the machines: vm list/show, the power actions,
 * node status.
 *
 * These are views of what the daemon already holds (the inventory, a VM's
 * document, the latest NodeMetrics); horcrux-top is the live view. The
 * daemon filters by privilege, so a user sees only the VMs they may audit.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hx-proto.h"

static char *
vm_path(const char *id, const char *action)
{
	char *v = hx_url_escape(id), *p;

	p = action ? xasprintf("/api/vms/%s/%s", v, action) :
		     xasprintf("/api/vms/%s", v);
	free(v);
	return p;
}

/* A byte count field in human units ("4.0G"), "-" when absent. */
static const char *
jbytes(const json_t *o, const char *key, char *buf, size_t len)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_number(v))
		return "-";
	return hx_fmt_bytes(json_number_value(v), buf, len);
}

/*
 * The metrics come decoded (hx_node_metrics_decode, hx_vm_metrics_decode):
 * a number the daemon sent as null, or not at all, is NaN and shows "-".
 */

/* A percentage ("12.5%"), "-" when unknown. */
static const char *
fpct(double v, char *buf, size_t len)
{
	if (isnan(v))
		return "-";
	snprintf(buf, len, "%.1f%%", v);
	return buf;
}

/* Bytes or a rate in human units, "-" when unknown (or unread: !ok). */
static const char *
fbytes(double v, int ok, char *buf, size_t len)
{
	if (!ok || isnan(v))
		return "-";
	return hx_fmt_bytes(v, buf, len);
}

/* A figure printed as a plain number: unknown is 0, as it always was. */
static double
or_zero(double v)
{
	return isnan(v) ? 0 : v;
}

static int
cmp_id(const void *a, const void *b)
{
	const char *x = jstr(*(json_t *const *)a, "id");
	const char *y = jstr(*(json_t *const *)b, "id");

	return strcmp(x ? x : "", y ? y : "");
}

int
cmd_vm_list(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	struct table *t;
	json_t	     *list, *v;
	size_t	      i;
	char	      b1[16], b2[16];
	int	      rc;

	(void)e;
	(void)a;
	if ((rc = cli_api(cli, "GET", "/api/vms", NULL, &list,
		 "list the VMs")) != CLI_OK)
		return rc;
	if (cli->out == OUT_JSON)
		out_json(list);
	else {
		/* People read a table in name order; the daemon's is its own. */
		size_t	 n = json_array_size(list);
		json_t **rows = xcalloc(n + 1, sizeof(*rows));

		json_array_foreach(list, i, v)
			rows[i] = v;
		qsort(rows, n, sizeof(*rows), cmp_id);
		t = table_new((const char *const[]){ "ID", "NAME", "STATE",
		    "VCPUS", "MEMORY", "TYPE", NULL });
		for (i = 0; i < n && (v = rows[i]) != NULL; i++)
			table_add(t, jstr(v, "id"), jstr(v, "name"),
			    jstr(v, "state"), jnum(v, "vcpus", b1, sizeof b1),
			    jbytes(v, "memory_max_bytes", b2, sizeof b2),
			    json_is_true(json_object_get(v, "container")) ?
				"container" :
				"vm");
		free(rows);
		table_print_free(cli, t);
	}
	json_decref(list);
	return CLI_OK;
}

int
cmd_vm_show(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	struct table	    *t;
	struct kv	    *kv;
	struct hx_vm_metrics m;
	json_t		    *v, *d;
	size_t		     i;
	char		    *p = vm_path(a->argv[0], NULL), b1[16], b2[16];
	char		     b3[16], b4[16];
	int		     rc;

	(void)e;
	rc = cli_api(cli, "GET", p, NULL, &v, "show VM '%s'", a->argv[0]);
	free(p);
	if (rc != CLI_OK)
		return rc;
	if (cli->out == OUT_JSON) {
		out_json(v);
		json_decref(v);
		return CLI_OK;
	}
	/* The VM's latest VmMetrics, when the daemon has one. */
	if (hx_vm_metrics_decode(json_object_get(v, "metrics"), &m) != 0)
		m.cpu_usage = m.memory_usage = NAN;
	kv = kv_new();
	kv_add(kv, "ID", "%s", jstr(v, "id") ? jstr(v, "id") : "-");
	kv_add(kv, "Name", "%s", jstr(v, "name") ? jstr(v, "name") : "-");
	kv_add(kv, "UUID", "%s", jstr(v, "uuid") ? jstr(v, "uuid") : "-");
	kv_add(kv, "State", "%s", jstr(v, "state") ? jstr(v, "state") : "-");
	kv_add(kv, "vCPUs", "%s", jnum(v, "vcpus", b1, sizeof b1));
	kv_add(kv, "Memory", "%s of %s",
	    jbytes(v, "memory_bytes", b1, sizeof b1),
	    jbytes(v, "memory_max_bytes", b2, sizeof b2));
	kv_add(kv, "Autostart", "%s", jnum(v, "autostart", b1, sizeof b1));
	kv_add(kv, "Persistent", "%s", jnum(v, "persistent", b1, sizeof b1));
	kv_add(kv, "CPU", "%s", fpct(m.cpu_usage, b1, sizeof b1));
	kv_add(kv, "Memory used", "%s", fpct(m.memory_usage, b1, sizeof b1));
	kv_print_free(cli, kv);
	if (json_array_size(json_object_get(v, "disks")) > 0) {
		putchar('\n');
		t = table_new((const char *const[]){ "DISK", "BUS", "READ",
		    "WRITTEN", "READ/S", "WRITE/S", "SOURCE", NULL });
		json_array_foreach(json_object_get(v, "disks"), i, d)
			table_add(t, jstr(d, "target"), jstr(d, "bus"),
			    jbytes(d, "read_bytes", b1, sizeof b1),
			    jbytes(d, "write_bytes", b2, sizeof b2),
			    jbytes(d, "read_bps", b3, sizeof b3),
			    jbytes(d, "write_bps", b4, sizeof b4),
			    jstr(d, "source"));
		table_print_free(cli, t);
	}
	if (json_array_size(json_object_get(v, "nics")) > 0) {
		putchar('\n');
		t = table_new((const char *const[]){ "NIC", "MAC", "MODEL",
		    "RECEIVED", "SENT", "RX/S", "TX/S", "SOURCE", NULL });
		json_array_foreach(json_object_get(v, "nics"), i, d)
			table_add(t, jstr(d, "target"), jstr(d, "mac"),
			    jstr(d, "model"),
			    jbytes(d, "rx_bytes", b1, sizeof b1),
			    jbytes(d, "tx_bytes", b2, sizeof b2),
			    jbytes(d, "rx_bps", b3, sizeof b3),
			    jbytes(d, "tx_bps", b4, sizeof b4),
			    jstr(d, "source"));
		table_print_free(cli, t);
	}
	json_decref(v);
	return CLI_OK;
}

/* start, shutdown, stop, reboot, suspend, resume: the entry's own name. */
int
cmd_vm_action(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	char   *p = vm_path(a->argv[0], e->name);
	json_t *r;
	int	rc;

	rc = cli_api(cli, "POST", p, NULL, &r, "%s VM '%s'", e->name,
	    a->argv[0]);
	free(p);
	if (rc == CLI_OK) {
		if (cli->out == OUT_JSON)
			out_json(r);
		else
			printf("%s '%s': %s\n", e->name, a->argv[0],
			    jstr(r, "result") ? jstr(r, "result") : "done");
	}
	json_decref(r);
	return rc;
}

int
cmd_node_status(struct cli *cli, const struct cmd_entry *e, struct cmd_args *a)
{
	struct table	      *t;
	struct kv	      *kv;
	struct hx_node_metrics m;
	struct hx_node_disk   *d;
	json_t		      *n;
	size_t		       i;
	double		       up;
	char		       b1[16], b2[16], b3[16], ts[40];
	int		       rc;

	(void)e;
	(void)a;
	if ((rc = cli_api(cli, "GET", "/api/nodes/local", NULL, &n,
		 "read the node status")) != CLI_OK)
		return rc;
	if (cli->out == OUT_JSON) {
		out_json(n);
		json_decref(n);
		return CLI_OK;
	}
	hx_node_metrics_decode(n, &m);
	kv = kv_new();
	kv_add(kv, "Host", "%s", m.hostname[0] ? m.hostname : "-");
	up = or_zero(m.uptime_seconds);
	kv_add(kv, "Uptime", "%dd %02d:%02d", (int)(up / 86400),
	    (int)fmod(up / 3600, 24), (int)fmod(up / 60, 60));
	snprintf(b2, sizeof b2, "%d", m.cpu_cores);
	kv_add(kv, "CPU", "%s of %s cores", fpct(m.cpu_usage, b1, sizeof b1),
	    b2);
	kv_add(kv, "Load", "%.2f %.2f %.2f", or_zero(m.load_average[0]),
	    or_zero(m.load_average[1]), or_zero(m.load_average[2]));
	kv_add(kv, "Memory", "%s used of %s (%s)",
	    fbytes((double)m.memory_used_bytes, 1, b1, sizeof b1),
	    fbytes((double)m.memory_total_bytes, 1, b2, sizeof b2),
	    fpct(m.memory_usage, b3, sizeof b3));
	kv_add(kv, "Swap", "%s", fpct(m.swap_usage, b1, sizeof b1));
	kv_add(kv, "Disk I/O", "%s/s read, %s/s written",
	    fbytes(m.disk_read_bps, 1, b1, sizeof b1),
	    fbytes(m.disk_write_bps, 1, b2, sizeof b2));
	kv_add(kv, "Network", "%s/s in, %s/s out",
	    fbytes(m.network_rx_bps, 1, b1, sizeof b1),
	    fbytes(m.network_tx_bps, 1, b2, sizeof b2));
	if (m.timestamp_ms < 0 ||
	    hx_rfc3339_ms(m.timestamp_ms, ts, sizeof ts) != 0)
		hx_strlcpy(ts, "-", sizeof ts);
	kv_add(kv, "Sampled", "%s", ts);
	kv_print_free(cli, kv);
	if (m.ndisks > 0) {
		putchar('\n');
		t = table_new((const char *const[]){ "MOUNT", "SIZE", "USED",
		    "USE%", NULL });
		for (i = 0; i < m.ndisks; i++) {
			d = &m.disks[i];
			table_add(t, d->mount,
			    fbytes((double)d->total_bytes, d->ok, b1,
				sizeof b1),
			    fbytes((double)d->used_bytes, d->ok, b2, sizeof b2),
			    fpct(d->usage, b3, sizeof b3));
		}
		table_print_free(cli, t);
	}
	hx_node_metrics_release(&m);
	json_decref(n);
	return CLI_OK;
}
