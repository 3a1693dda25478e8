/*
 * job-vm.h - VM jobs, run on the libvirt worker thread: the detailed
 * document of one VM and power actions.
 */
#ifndef HORCRUXD_JOB_VM_H
#define HORCRUXD_JOB_VM_H

#include "worker.h"

void job_vm_show(struct job *, const struct worker_env *);
void job_vm_action(struct job *, const struct worker_env *);

#endif
