/*
 * job-notify.c - the notification target jobs (see job-notify.h): the
 * request checked (lib/hx-notify.c), the secret split from the settings
 * it is stored beside, and every answer built without it.
 *
 * It does not deliver anything: notify.c does, on its own thread.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hx-log.h"
#include "hx-notify.h"
#include "hx-util.h"
#include "job-notify.h"

#define SHOW_ATTEMPTS 20
#define LIST_ATTEMPTS 100

static json_t *
time_json(int64_t ms)
{
	char buf[40];

	hx_rfc3339_ms(ms, buf, sizeof buf);
	return json_string(buf);
}

/* A target as the API shows it: its settings, whether a secret is set. */
static json_t *
target_json(const struct hx_store_notify_target *t, int has_secret)
{
	json_t *o = json_loads(t->config, 0, NULL);

	if (!json_is_object(o)) {
		json_decref(o);
		o = json_object();
	}
	json_object_set_new(o, "name", json_string(t->name));
	json_object_set_new(o, "type", json_string(t->type));
	json_object_set_new(o, "created", time_json(t->created * 1000));
	json_object_set_new(o,
	    strcmp(t->type, "email") == 0 ? "password_set" : "secret_set",
	    json_boolean(has_secret));
	return o;
}

static json_t *
attempt_json(const struct hx_store_notify_attempt *a)
{
	json_t *o;

	o = json_pack("{s:o,s:I,s:i,s:s,s:s,s:i,s:I}", "ts", time_json(a->ts),
	    "delivery", (json_int_t)a->delivery, "attempt", a->attempt, "event",
	    a->event, "outcome", a->outcome, "status", a->status, "duration_ms",
	    (json_int_t)a->duration_ms);
	json_object_set_new(o, "error",
	    a->error != NULL ? json_string(a->error) : json_null());
	return o;
}

void
job_notify_targets(struct job *j, const struct worker_env *env)
{
	struct hx_store_notify_target_list l;
	struct hx_store_notify_target	   t;
	char				  *err = NULL;
	json_t				  *a;
	size_t				   i;
	int				   rc;

	if ((rc = hx_store_notify_target_list(env->store, &l, &err)) !=
	    HX_STORE_OK) {
		job_store_error(j, rc, err);
		free(err);
		return;
	}
	a = json_array();
	for (i = 0; i < l.n; i++) {
		/* The list leaves secrets out; whether one is set, ask. */
		if (hx_store_notify_target_get(env->store, l.v[i].name, &t,
			NULL) == HX_STORE_OK) {
			json_array_append_new(a,
			    target_json(&t, t.secret != NULL));
			hx_store_notify_target_release(&t);
		}
	}
	hx_store_notify_target_list_release(&l);
	j->status = 200;
	j->reply = json_pack("{s:o}", "targets", a);
}

void
job_notify_target_add(struct job *j, const struct worker_env *env)
{
	struct hx_store_notify_target t;
	const char		     *secret_key;
	json_t			     *cfg;
	char			     *err = NULL;
	int			      rc;

	if (hx_notify_target_check(j->body, &err) != 0) {
		job_error(j, 422, "VALIDATION_ERROR", err);
		free(err);
		return;
	}
	memset(&t, 0, sizeof t);
	t.name = (char *)json_string_value(json_object_get(j->body, "name"));
	t.type = (char *)json_string_value(json_object_get(j->body, "type"));
	secret_key = strcmp(t.type, "email") == 0 ? "password" : "secret";
	t.secret = (char *)json_string_value(
	    json_object_get(j->body, secret_key));
	/* The settings without the name, type and secret. */
	cfg = json_deep_copy(j->body);
	json_object_del(cfg, "name");
	json_object_del(cfg, "type");
	json_object_del(cfg, secret_key);
	t.config = json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS);
	t.created = time(NULL);
	rc = hx_store_notify_target_add(env->store, &t, &err);
	if (rc != HX_STORE_OK) {
		job_store_error(j, rc, err);
		goto out;
	}
	job_audit_write(env, j, "notify.target.add", t.name, t.type);
	j->status = 201;
	j->reply = target_json(&t, t.secret != NULL);
out:
	free(t.config);
	json_decref(cfg);
	free(err);
}

void
job_notify_target_show(struct job *j, const struct worker_env *env)
{
	struct hx_store_notify_target	    t;
	struct hx_store_notify_attempt_list l;
	char				   *err = NULL;
	json_t				   *a;
	size_t				    i;
	int				    rc;

	if ((rc = hx_store_notify_target_get(env->store, j->param[0], &t,
		 &err)) != HX_STORE_OK ||
	    (rc = hx_store_notify_attempt_list(env->store, j->param[0],
		 SHOW_ATTEMPTS, &l, &err)) != HX_STORE_OK) {
		job_store_error(j, rc, err);
		free(err);
		hx_store_notify_target_release(&t);
		return;
	}
	j->reply = target_json(&t, t.secret != NULL);
	a = json_array();
	for (i = 0; i < l.n; i++)
		json_array_append_new(a, attempt_json(&l.v[i]));
	json_object_set_new(j->reply, "attempts", a);
	j->status = 200;
	hx_store_notify_attempt_list_release(&l);
	hx_store_notify_target_release(&t);
}

void
job_notify_target_delete(struct job *j, const struct worker_env *env)
{
	char *err = NULL;
	int   rc;

	if ((rc = hx_store_notify_target_delete(env->store, j->param[0],
		 &err)) != HX_STORE_OK) {
		job_store_error(j, rc, err);
		free(err);
		return;
	}
	job_audit_write(env, j, "notify.target.delete", j->param[0], NULL);
	j->status = 204;
}

void
job_notify_attempts(struct job *j, const struct worker_env *env)
{
	struct hx_store_notify_target	    t;
	struct hx_store_notify_attempt_list l;
	const char			   *q = j->query, *p;
	long long			    limit = LIST_ATTEMPTS;
	char				   *err = NULL, num[16];
	json_t				   *a;
	size_t				    i, k;
	int				    rc;

	if (q != NULL && (p = strstr(q, "limit=")) != NULL &&
	    (p == q || p[-1] == '&')) {
		p += 6;
		k = strcspn(p, "&");
		if (k >= sizeof num)
			k = sizeof num - 1;
		memcpy(num, p, k);
		num[k] = '\0';
		if (hx_parse_ll(num, 1, 1000, &limit) != 0) {
			job_error(j, 422, "VALIDATION_ERROR",
			    "'limit' must be a whole number from 1 to 1000");
			return;
		}
	}
	if ((rc = hx_store_notify_target_get(env->store, j->param[0], &t,
		 &err)) != HX_STORE_OK ||
	    (rc = hx_store_notify_attempt_list(env->store, j->param[0],
		 (int)limit, &l, &err)) != HX_STORE_OK) {
		job_store_error(j, rc, err);
		free(err);
		hx_store_notify_target_release(&t);
		return;
	}
	a = json_array();
	for (i = 0; i < l.n; i++)
		json_array_append_new(a, attempt_json(&l.v[i]));
	j->reply = json_pack("{s:s,s:o}", "target", t.name, "attempts", a);
	j->status = 200;
	hx_store_notify_attempt_list_release(&l);
	hx_store_notify_target_release(&t);
}

/* Never run: the route hands its job to notify_submit_test. */
void
job_notify_test(struct job *j, const struct worker_env *env)
{
	job_error(j, 500, "INTERNAL", "internal error");
}
