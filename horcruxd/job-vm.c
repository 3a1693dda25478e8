/*
 * job-vm.c - VM jobs on the libvirt worker (see job-vm.h).
 *
 * The service thread has already checked VmAudit or VmPowerMgmt on
 * /vms/{id}. A power action tells the libvirt layer who asked before it
 * calls libvirt, so the lifecycle event that follows names the user; the
 * answer is the action's outcome, the state change arrives as an event.
 */
#include <stdlib.h>
#include <string.h>

#include <libvirt/virterror.h>

#include "hx-log.h"
#include "hx-util.h"
#include "hx-virt.h"
#include "job-vm.h"
#include "virt.h"

static void
libvirt_error(struct job *j, const char *what)
{
	virErrorPtr e = virGetLastError();
	char	   *msg;

	if (e != NULL && (e->code == VIR_ERR_NO_DOMAIN)) {
		job_error(j, 404, "NOT_FOUND", "no such VM");
		return;
	}
	if (e != NULL &&
	    (e->code == VIR_ERR_OPERATION_INVALID ||
		e->code == VIR_ERR_OPERATION_DENIED ||
		e->code == VIR_ERR_OPERATION_UNSUPPORTED ||
		e->code == VIR_ERR_NO_SUPPORT)) {
		/* libvirt's words here are meant for people: "domain is not
		 * running", "Requested operation is not valid". */
		msg = xasprintf("cannot %s '%s': %s", what, j->param[0],
		    e->message ? e->message : "refused");
		job_error(j, 409, "CONFLICT", msg);
		free(msg);
		return;
	}
	log_error("libvirt: cannot %s '%s': %s", what, j->param[0],
	    e && e->message ? e->message : "unknown error");
	job_error(j, 500, "INTERNAL", "the hypervisor refused the request");
}

/*
 * The document, with the per-device figures and metrics of the sample
 * the service thread's snapshot held when the request came (one sample,
 * so they agree with each other), if it is still this VM's: the name may
 * have passed to another domain since.
 */
void
job_vm_show(struct job *j, const struct worker_env *env)
{
	virDomainPtr		   dom;
	json_t			  *doc;
	const struct hx_vm_sample *latest = j->vm_sample;
	char			  *err = NULL, uuid[VIR_UUID_STRING_BUFLEN];

	if ((dom = virt_domain(env->virt, j->param[0], NULL)) == NULL) {
		job_error(j, 404, "NOT_FOUND", "no such VM");
		return;
	}
	if (latest != NULL &&
	    (virDomainGetUUIDString(dom, uuid) != 0 || latest->uuid == NULL ||
		strcmp(latest->uuid, uuid) != 0))
		latest = NULL;
	doc = hx_virt_domain_json(dom, latest, &err);
	if (doc == NULL) {
		log_warn("cannot describe VM '%s': %s", j->param[0], err);
		job_error(j, 404, "NOT_FOUND", "no such VM");
		free(err);
		virDomainFree(dom);
		return;
	}
	j->reply = doc;
	virDomainFree(dom);
}

void
job_vm_action(struct job *j, const struct worker_env *env)
{
	/* Each action, and the states it makes sense in. */
	static const struct {
		const char *name;
		const char *from; /* space-separated state words */
	} actions[] = {
		{ "start", "stopped crashed" },
		{ "shutdown", "running" },
		{ "stop", "running paused shutdown suspended" },
		{ "reboot", "running" },
		{ "suspend", "running" },
		{ "resume", "paused" },
	};
	const char  *a = j->param[1], *state, *p;
	virDomainPtr dom;
	char	    *msg;
	size_t	     i, n;
	int	     st, reason, r = -1;

	for (i = 0; i < HX_ARRAY_SIZE(actions); i++) {
		if (strcmp(a, actions[i].name) == 0)
			break;
	}
	if (i == HX_ARRAY_SIZE(actions)) {
		job_error(j, 404, "NOT_FOUND",
		    "unknown action: use start, "
		    "shutdown, stop, reboot, suspend or resume");
		return;
	}
	if ((dom = virt_domain(env->virt, j->param[0], NULL)) == NULL) {
		job_error(j, 404, "NOT_FOUND", "no such VM");
		return;
	}
	/*
	 * Drivers word "not in that state" differently (the test driver says
	 * "internal error"): decide it here, the same for every driver.
	 */
	state = virDomainGetState(dom, &st, &reason, 0) == 0 ?
	    hx_virt_state_word(st) :
	    "unknown";
	n = strlen(state);
	for (p = actions[i].from; (p = strstr(p, state)) != NULL; p += n) {
		if ((p == actions[i].from || p[-1] == ' ') &&
		    (p[n] == ' ' || p[n] == '\0'))
			break;
	}
	if (p == NULL) {
		msg = xasprintf("cannot %s '%s': it is %s", a, j->param[0],
		    state);
		job_error(j, 409, "CONFLICT", msg);
		free(msg);
		virDomainFree(dom);
		return;
	}
	virt_note_action(env->virt, j->param[0], j->actor_who);
	if (strcmp(a, "start") == 0)
		r = virDomainCreate(dom);
	else if (strcmp(a, "shutdown") == 0)
		r = virDomainShutdown(dom);
	else if (strcmp(a, "stop") == 0)
		r = virDomainDestroy(dom);
	else if (strcmp(a, "reboot") == 0)
		r = virDomainReboot(dom, 0);
	else if (strcmp(a, "suspend") == 0)
		r = virDomainSuspend(dom);
	else if (strcmp(a, "resume") == 0)
		r = virDomainResume(dom);
	if (r != 0)
		libvirt_error(j, a);
	else {
		log_info("%s: %s '%s'", j->actor_who, a, j->param[0]);
		j->reply = json_pack("{s:s,s:s,s:s}", "vm_id", j->param[0],
		    "action", a, "result", "done");
	}
	virDomainFree(dom);
}
