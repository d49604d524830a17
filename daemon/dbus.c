// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * org.llamux.Llamux1 on D-Bus (sd-bus): Ask(s prompt, a{sv} options) → s,
 * Generate(s, a{sv}) → t id with the text streamed as Token(t id, s text)
 * signals and a closing Finished(t id, s reason, u prompt_tokens,
 * u completion_tokens), Cancel(t id), properties Model, Backend and Status,
 * and LoadModel(s name), which polkit must allow
 * (org.llamux.Llamux1.load-model, asked through
 * org.freedesktop.PolicyKit1.Authority.CheckAuthorization; no polkit means
 * no). The system bus for the system service, the session bus with --user.
 * One thread runs an sd-event loop; the engine wakes it through an eventfd
 * when a job has new output.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "chat_template.h"
#include "llamuxd.h"

#define ERR_NOT_FOUND LXD_DBUS_IFACE ".Error.NotFound"
#define ERR_FAILED LXD_DBUS_IFACE ".Error.Failed"
#define ERR_BUSY LXD_DBUS_IFACE ".Error.Busy"

enum djob_kind { DJOB_ASK, DJOB_GENERATE };

struct piece {
	struct piece *next;
	size_t len;
	char text[];
};

struct djob {
	enum djob_kind kind;
	struct lxd_job *job;
	/* Generate: the text of each token, under db.piece_lock */
	struct piece *head, **tail;
	sd_bus_message *call;	/* Ask: the call to answer */
	char *sender;
	char *text;		/* Ask: collected output */
	size_t len;
	struct djob *next;
};

struct load_req {
	sd_bus_message *call;
	char *path;
	bool started;		/* authorised, handed to the engine */
	sd_bus_slot *slot;	/* the polkit call */
	struct load_req *next;
};

static struct {
	pthread_t thread;
	bool running;
	bool user;
	sd_event *event;
	sd_bus *bus;
	sd_bus *polkit_bus;	/* the system bus, for --user */
	sd_bus_slot *vtable_slot;
	int efd;
	pthread_mutex_t piece_lock;
	bool status_dirty;	/* atomic */
	bool quit;		/* atomic */
	struct djob *jobs;
	struct load_req *loads;
} db = { .efd = -1, .piece_lock = PTHREAD_MUTEX_INITIALIZER };

static void wake(void)
{
	uint64_t one = 1;

	if (db.efd >= 0 && write(db.efd, &one, sizeof(one)) < 0)
		return;
}

void lxd_dbus_status_changed(void)
{
	__atomic_store_n(&db.status_dirty, true, __ATOMIC_RELEASE);
	wake();
}

static void job_notify(struct lxd_job *j, void *arg)
{
	(void)j;
	(void)arg;
	wake();
}

/*
 * Generate: called by the engine under the job's lock after each token, so
 * each Token signal carries what one token added.
 */
static void generate_notify(struct lxd_job *j, void *arg)
{
	struct djob *d = arg;
	struct piece *p;

	if (j->text_len) {
		p = malloc(sizeof(*p) + j->text_len + 1);
		if (p) {
			p->next = NULL;
			p->len = j->text_len;
			memcpy(p->text, j->text, j->text_len + 1);
			j->text_len = 0;
			j->n_marks = 0;
			pthread_mutex_lock(&db.piece_lock);
			*d->tail = p;
			d->tail = &p->next;
			pthread_mutex_unlock(&db.piece_lock);
		}
	}
	wake();
}

/* ---- properties ---- */

static const char *status_name(const struct lxd_engine_info *i)
{
	switch (i->status) {
	case LXD_STATUS_LOADING:
		return "loading";
	case LXD_STATUS_READY:
		return i->busy ? "busy" : "ready";
	case LXD_STATUS_FAILED:
		return "failed";
	default:
		return "stopping";
	}
}

static int prop_get(sd_bus *bus, const char *path, const char *iface,
		    const char *prop, sd_bus_message *reply, void *ud,
		    sd_bus_error *err)
{
	struct lxd_engine_info info;

	(void)bus;
	(void)path;
	(void)iface;
	(void)ud;
	(void)err;
	lxd_engine_info(&info);
	if (!strcmp(prop, "Model"))
		return sd_bus_message_append(reply, "s", info.model_name);
	if (!strcmp(prop, "Backend"))
		return sd_bus_message_append(reply, "s", "cpu");
	return sd_bus_message_append(reply, "s", status_name(&info));
}

/* ---- options ---- */

static int opt_number(sd_bus_message *m, const char *key, double *d,
		      int64_t *i, sd_bus_error *err)
{
	char type;
	const char *contents;
	int r;

	r = sd_bus_message_peek_type(m, &type, &contents);
	if (r < 0)
		return r;
	if (!contents || strlen(contents) != 1)
		return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
					 "option '%s' must be a number", key);
	switch (contents[0]) {
	case 'd': {
		double v;

		r = sd_bus_message_read(m, "v", "d", &v);
		*d = v;
		*i = (int64_t)v;
		return r;
	}
	case 'i': {
		int32_t v;

		r = sd_bus_message_read(m, "v", "i", &v);
		*d = v;
		*i = v;
		return r;
	}
	case 'u': {
		uint32_t v;

		r = sd_bus_message_read(m, "v", "u", &v);
		*d = v;
		*i = v;
		return r;
	}
	case 'x': {
		int64_t v;

		r = sd_bus_message_read(m, "v", "x", &v);
		*d = (double)v;
		*i = v;
		return r;
	}
	case 't': {
		uint64_t v;

		r = sd_bus_message_read(m, "v", "t", &v);
		*d = (double)v;
		*i = (int64_t)v;
		return r;
	}
	}
	return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
				 "option '%s' must be a number, not '%s'", key,
				 contents);
}

static int range_error(sd_bus_error *err, const char *key, double min,
		       double max)
{
	return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
				 "option '%s' must be between %g and %g", key,
				 min, max);
}

/* Reads a{sv}: max_tokens, temperature, top_p, top_k, min_p, seed, stop, raw. */
static int read_options(sd_bus_message *m, struct lxd_job *j, long *max_tokens,
			bool *raw, sd_bus_error *err)
{
	int r;

	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const char *key;
		double d = 0;
		int64_t i = 0;

		r = sd_bus_message_read(m, "s", &key);
		if (r < 0)
			return r;
		if (!strcmp(key, "stop")) {
			const char *contents;
			char type;

			r = sd_bus_message_peek_type(m, &type, &contents);
			if (r < 0)
				return r;
			if (contents && !strcmp(contents, "s")) {
				const char *s;

				r = sd_bus_message_read(m, "v", "s", &s);
				if (r < 0)
					return r;
				lxd_job_add_stop(j, s, strlen(s));
			} else if (contents && !strcmp(contents, "as")) {
				const char *s;

				r = sd_bus_message_enter_container(m, 'v', "as");
				if (r < 0)
					return r;
				r = sd_bus_message_enter_container(m, 'a', "s");
				if (r < 0)
					return r;
				while ((r = sd_bus_message_read(m, "s", &s)) > 0)
					lxd_job_add_stop(j, s, strlen(s));
				if (r < 0)
					return r;
				sd_bus_message_exit_container(m);
				sd_bus_message_exit_container(m);
			} else {
				return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
							 "option 'stop' must be a string or an array of strings");
			}
		} else if (!strcmp(key, "raw")) {
			int b;
			const char *contents;
			char type;

			r = sd_bus_message_peek_type(m, &type, &contents);
			if (r < 0)
				return r;
			if (!contents || strcmp(contents, "b"))
				return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
							 "option 'raw' must be a boolean");
			r = sd_bus_message_read(m, "v", "b", &b);
			if (r < 0)
				return r;
			*raw = b;
		} else {
			static const char *const numeric[] = {
				"max_tokens", "temperature", "top_p", "min_p",
				"top_k", "seed",
			};
			size_t k;

			for (k = 0; k < 6 && strcmp(key, numeric[k]); k++)
				;
			if (k == 6)
				return sd_bus_error_setf(err, SD_BUS_ERROR_INVALID_ARGS,
							 "unknown option '%s' (known: max_tokens, temperature, top_p, top_k, min_p, seed, stop, raw)",
							 key);
			r = opt_number(m, key, &d, &i, err);
			if (r < 0)
				return r;
			if (!strcmp(key, "max_tokens")) {
				if (i < 1 || i > INT32_MAX)
					return range_error(err, key, 1, INT32_MAX);
				*max_tokens = (long)i;
			} else if (!strcmp(key, "temperature")) {
				if (!(d >= 0 && d <= 100))
					return range_error(err, key, 0, 100);
				j->sp.temp = (float)d;
			} else if (!strcmp(key, "top_p")) {
				if (!(d >= 0 && d <= 1))
					return range_error(err, key, 0, 1);
				j->sp.top_p = (float)d;
			} else if (!strcmp(key, "min_p")) {
				if (!(d >= 0 && d <= 1))
					return range_error(err, key, 0, 1);
				j->sp.min_p = (float)d;
			} else if (!strcmp(key, "top_k")) {
				if (i < 0 || i > INT32_MAX)
					return range_error(err, key, 0, INT32_MAX);
				j->sp.top_k = (int32_t)i;
			} else {
				j->sp.seed = (uint64_t)i;
			}
		}
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

/* ---- Ask, Generate, Cancel ---- */

static int api_error(sd_bus_error *err, const struct lxd_api_error *e)
{
	const char *name = e->status == 503 ? ERR_BUSY :
			   e->status >= 500 ? ERR_FAILED :
			   SD_BUS_ERROR_INVALID_ARGS;

	return sd_bus_error_set(err, name, e->message);
}

static int start_job(sd_bus_message *m, enum djob_kind kind,
		     sd_bus_error *err, struct djob **out)
{
	struct lxd_api_error e = { 0 };
	const char *prompt;
	struct djob *d;
	struct lxd_job *j;
	long max_tokens = 0;
	bool raw = false;
	int r;

	r = sd_bus_message_read(m, "s", &prompt);
	if (r < 0)
		return r;
	j = lxd_job_new();
	if (!j)
		return -ENOMEM;
	lxd_sampler_defaults(&j->sp);
	r = read_options(m, j, &max_tokens, &raw, err);
	if (r < 0) {
		lxd_job_put(j);
		return r;
	}
	if (raw) {
		if (!lxd_job_prompt_text(j, prompt, strlen(prompt), &e)) {
			lxd_job_put(j);
			return api_error(err, &e);
		}
	} else {
		struct chat_msg msg = { "user", prompt };

		if (!lxd_job_prompt_chat(j, &msg, 1, &e)) {
			lxd_job_put(j);
			return api_error(err, &e);
		}
	}
	lxd_job_apply_limits(j, max_tokens);
	j->notify = job_notify;
	d = calloc(1, sizeof(*d));
	if (!d) {
		lxd_job_put(j);
		return -ENOMEM;
	}
	d->kind = kind;
	d->job = j;
	d->tail = &d->head;
	if (kind == DJOB_GENERATE) {
		j->notify = generate_notify;
		j->notify_arg = d;
	}
	d->sender = strdup(sd_bus_message_get_sender(m) ?
			   sd_bus_message_get_sender(m) : "");
	r = lxd_engine_submit(j);
	if (r) {
		lxd_submit_error(r, &e);
		free(d->sender);
		free(d);
		lxd_job_put(j);
		return api_error(err, &e);
	}
	lxd_metric_add(requests_total, 1);
	d->next = db.jobs;
	db.jobs = d;
	*out = d;
	lxd_info("dbus %s from %s: job %llu, %u prompt tokens",
		 kind == DJOB_ASK ? "Ask" : "Generate", d->sender,
		 (unsigned long long)j->id, j->n_tokens);
	return 0;
}

static int method_ask(sd_bus_message *m, void *ud, sd_bus_error *err)
{
	struct djob *d;
	int r;

	(void)ud;
	r = start_job(m, DJOB_ASK, err, &d);
	if (r < 0 || sd_bus_error_is_set(err))
		return r;
	d->call = sd_bus_message_ref(m);
	return 1;		/* answered when the job is done */
}

static int method_generate(sd_bus_message *m, void *ud, sd_bus_error *err)
{
	struct djob *d;
	int r;

	(void)ud;
	r = start_job(m, DJOB_GENERATE, err, &d);
	if (r < 0 || sd_bus_error_is_set(err))
		return r;
	return sd_bus_reply_method_return(m, "t", d->job->id);
}

static int method_cancel(sd_bus_message *m, void *ud, sd_bus_error *err)
{
	const char *sender = sd_bus_message_get_sender(m);
	struct djob *d;
	uint64_t id;
	int r;

	(void)ud;
	r = sd_bus_message_read(m, "t", &id);
	if (r < 0)
		return r;
	for (d = db.jobs; d; d = d->next) {
		if (d->job->id != id)
			continue;
		if (sender && strcmp(sender, d->sender))
			return sd_bus_error_setf(err, SD_BUS_ERROR_ACCESS_DENIED,
						 "request %llu belongs to another client",
						 (unsigned long long)id);
		lxd_job_cancel(d->job);
		return sd_bus_reply_method_return(m, "");
	}
	return sd_bus_error_setf(err, ERR_NOT_FOUND, "no running request %llu",
				 (unsigned long long)id);
}

static void djob_free(struct djob *d)
{
	struct piece *p;

	lxd_job_detach(d->job);
	while ((p = d->head)) {
		d->head = p->next;
		free(p);
	}
	sd_bus_message_unref(d->call);
	lxd_job_put(d->job);
	free(d->sender);
	free(d->text);
	free(d);
}

/* Moves new output of every job to its client. */
static void pump_jobs(void)
{
	struct djob **pp = &db.jobs, *d;

	while ((d = *pp)) {
		struct piece *p, *list;
		char *t;
		size_t n;
		bool done;

		pthread_mutex_lock(&d->job->lock);
		done = d->job->done;
		pthread_mutex_unlock(&d->job->lock);
		/* After the end no callback adds pieces: take them all. */
		if (done)
			lxd_job_detach(d->job);
		pthread_mutex_lock(&db.piece_lock);
		list = d->head;
		d->head = NULL;
		d->tail = &d->head;
		pthread_mutex_unlock(&db.piece_lock);
		while ((p = list)) {
			list = p->next;
			sd_bus_emit_signal(db.bus, LXD_DBUS_PATH, LXD_DBUS_IFACE,
					   "Token", "ts", d->job->id, p->text);
			free(p);
		}
		lxd_job_wait_take(d->job, 0, &t, &n);
		if (t && d->kind == DJOB_GENERATE) {
			sd_bus_emit_signal(db.bus, LXD_DBUS_PATH, LXD_DBUS_IFACE,
					   "Token", "ts", d->job->id, t);
		} else if (t) {
			char *q = realloc(d->text, d->len + n + 1);

			if (q) {
				memcpy(q + d->len, t, n + 1);
				d->text = q;
				d->len += n;
			}
		}
		free(t);
		if (!done) {
			pp = &d->next;
			continue;
		}
		if (d->kind == DJOB_ASK) {
			if (d->job->finish == LXD_FINISH_ERROR)
				sd_bus_reply_method_errorf(d->call, ERR_FAILED, "%s",
							   d->job->error);
			else if (d->job->finish == LXD_FINISH_CANCELLED)
				sd_bus_reply_method_errorf(d->call, ERR_FAILED,
							   "the request was cancelled");
			else
				sd_bus_reply_method_return(d->call, "s",
							   d->text ? d->text : "");
		} else {
			sd_bus_emit_signal(db.bus, LXD_DBUS_PATH, LXD_DBUS_IFACE,
					   "Finished", "tsuu", d->job->id,
					   lxd_finish_reason(d->job->finish),
					   d->job->n_tokens, d->job->n_gen);
		}
		*pp = d->next;
		djob_free(d);
	}
}

/* A client that leaves the bus cancels its requests. */
static int name_owner_changed(sd_bus_message *m, void *ud, sd_bus_error *err)
{
	const char *name, *old, *new;
	struct djob *d;

	(void)ud;
	(void)err;
	if (sd_bus_message_read(m, "sss", &name, &old, &new) < 0)
		return 0;
	if (*new)
		return 0;
	for (d = db.jobs; d; d = d->next)
		if (!strcmp(d->sender, name))
			lxd_job_cancel(d->job);
	return 0;
}

/* ---- LoadModel and polkit ---- */

static void load_free(struct load_req *l)
{
	struct load_req **pp;

	for (pp = &db.loads; *pp; pp = &(*pp)->next) {
		if (*pp == l) {
			*pp = l->next;
			break;
		}
	}
	sd_bus_slot_unref(l->slot);
	sd_bus_message_unref(l->call);
	free(l->path);
	free(l);
}

static int polkit_reply(sd_bus_message *reply, void *ud, sd_bus_error *ret)
{
	struct load_req *l = ud;
	const sd_bus_error *e = sd_bus_message_get_error(reply);
	int authorized = 0, challenge = 0, r;

	(void)ret;
	l->slot = sd_bus_slot_unref(l->slot);
	if (e) {
		lxd_notice("LoadModel denied: polkit is not available (%s)",
			   e->message ? e->message : e->name);
		sd_bus_reply_method_errorf(l->call, SD_BUS_ERROR_ACCESS_DENIED,
					   "authorization unavailable: polkit did not answer (%s)",
					   e->name);
		load_free(l);
		return 0;
	}
	r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
	if (r >= 0)
		r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
	if (r < 0 || !authorized) {
		lxd_notice("LoadModel of %s denied by polkit", l->path);
		if (challenge && !sd_bus_message_get_allow_interactive_authorization(l->call))
			sd_bus_reply_method_errorf(l->call,
						   SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
						   "loading a model needs administrator authentication (action %s)",
						   LXD_POLKIT_LOAD_MODEL);
		else
			sd_bus_reply_method_errorf(l->call, SD_BUS_ERROR_ACCESS_DENIED,
						   "not authorized to load a model (action %s)",
						   LXD_POLKIT_LOAD_MODEL);
		load_free(l);
		return 0;
	}
	lxd_notice("LoadModel %s authorized", l->path);
	l->started = true;
	lxd_engine_load(l->path);
	return 0;
}

static int method_load(sd_bus_message *m, void *ud, sd_bus_error *err)
{
	const char *name, *sender = sd_bus_message_get_sender(m);
	const struct lxd_config *c;
	struct load_req *l;
	sd_bus *pb = db.bus;
	sd_bus_message *call = NULL;
	int r;

	(void)ud;
	r = sd_bus_message_read(m, "s", &name);
	if (r < 0)
		return r;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	c = lxd_config_get();
	l->path = lxd_resolve_model(c, name);
	lxd_config_put();
	if (!l->path) {
		free(l);
		return -ENOMEM;
	}
	if (access(l->path, R_OK) != 0) {
		r = sd_bus_error_setf(err, ERR_NOT_FOUND,
				      "no readable model '%s' (%s)", name,
				      l->path);
		free(l->path);
		free(l);
		return r;
	}
	if (db.user) {
		if (!db.polkit_bus) {
			r = sd_bus_open_system(&db.polkit_bus);
			if (r >= 0)
				r = sd_bus_attach_event(db.polkit_bus, db.event, 0);
			if (r < 0) {
				db.polkit_bus = sd_bus_unref(db.polkit_bus);
				lxd_notice("LoadModel denied: no system bus for polkit (%s)",
					   strerror(-r));
				free(l->path);
				free(l);
				return sd_bus_error_setf(err, SD_BUS_ERROR_ACCESS_DENIED,
							 "authorization unavailable: cannot reach polkit on the system bus");
			}
		}
		pb = db.polkit_bus;
	}
	r = sd_bus_message_new_method_call(pb, &call, "org.freedesktop.PolicyKit1",
					   "/org/freedesktop/PolicyKit1/Authority",
					   "org.freedesktop.PolicyKit1.Authority",
					   "CheckAuthorization");
	if (r < 0)
		goto fail;
	if (db.user) {
		/* The caller is on another bus: name its process. */
		sd_bus_creds *creds = NULL;
		pid_t pid = 0;
		uid_t uid = (uid_t)-1;

		r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_PID | SD_BUS_CREDS_EUID,
					      &creds);
		if (r >= 0) {
			sd_bus_creds_get_pid(creds, &pid);
			sd_bus_creds_get_euid(creds, &uid);
		}
		sd_bus_creds_unref(creds);
		if (!pid) {
			r = sd_bus_error_setf(err, SD_BUS_ERROR_ACCESS_DENIED,
					      "cannot identify the caller for polkit");
			sd_bus_message_unref(call);
			free(l->path);
			free(l);
			return r;
		}
		r = sd_bus_message_append(call, "(sa{sv})", "unix-process", 3,
					  "pid", "u", (uint32_t)pid,
					  "start-time", "t", (uint64_t)0,
					  "uid", "i", (int32_t)uid);
	} else {
		r = sd_bus_message_append(call, "(sa{sv})", "system-bus-name", 1,
					  "name", "s", sender ? sender : "");
	}
	if (r >= 0)
		r = sd_bus_message_append(call, "sa{ss}us", LXD_POLKIT_LOAD_MODEL, 0,
					  (uint32_t)(sd_bus_message_get_allow_interactive_authorization(m) ?
						     1 : 0), "");
	if (r < 0)
		goto fail;
	l->call = sd_bus_message_ref(m);
	r = sd_bus_call_async(pb, &l->slot, call, polkit_reply, l,
			      (uint64_t)300 * 1000000);
	sd_bus_message_unref(call);
	if (r < 0) {
		sd_bus_message_unref(l->call);
		free(l->path);
		free(l);
		return sd_bus_error_setf(err, SD_BUS_ERROR_ACCESS_DENIED,
					 "authorization unavailable: %s", strerror(-r));
	}
	l->next = db.loads;
	db.loads = l;
	return 1;
fail:
	sd_bus_message_unref(call);
	free(l->path);
	free(l);
	return r;
}

/* Answers LoadModel calls whose model swap is over. */
static void pump_loads(void)
{
	struct lxd_engine_info info;
	struct load_req *l, *next;

	lxd_engine_info(&info);
	if (info.load_pending)
		return;
	for (l = db.loads; l; l = next) {
		next = l->next;
		if (!l->started)
			continue;
		if (info.status == LXD_STATUS_READY &&
		    !strcmp(info.model_path, l->path))
			sd_bus_reply_method_return(l->call, "");
		else
			sd_bus_reply_method_errorf(l->call, ERR_FAILED,
						   "cannot load %s; see the service's log",
						   l->path);
		load_free(l);
	}
}

static const sd_bus_vtable vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Model", "s", prop_get, 0,
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Backend", "s", prop_get, 0,
			SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Status", "s", prop_get, 0,
			SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_METHOD_WITH_ARGS("Ask",
				SD_BUS_ARGS("s", prompt, "a{sv}", options),
				SD_BUS_RESULT("s", reply), method_ask,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("Generate",
				SD_BUS_ARGS("s", prompt, "a{sv}", options),
				SD_BUS_RESULT("t", id), method_generate,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("Cancel", SD_BUS_ARGS("t", id),
				SD_BUS_NO_RESULT, method_cancel,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_METHOD_WITH_ARGS("LoadModel", SD_BUS_ARGS("s", name),
				SD_BUS_NO_RESULT, method_load,
				SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_SIGNAL_WITH_ARGS("Token", SD_BUS_ARGS("t", id, "s", text), 0),
	SD_BUS_SIGNAL_WITH_ARGS("Finished",
				SD_BUS_ARGS("t", id, "s", reason,
					    "u", prompt_tokens,
					    "u", completion_tokens), 0),
	SD_BUS_VTABLE_END
};

/* ---- the loop ---- */

static int on_wake(sd_event_source *s, int fd, uint32_t revents, void *ud)
{
	uint64_t v;

	(void)s;
	(void)revents;
	(void)ud;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return 0;
	if (__atomic_load_n(&db.quit, __ATOMIC_ACQUIRE)) {
		sd_event_exit(db.event, 0);
		return 0;
	}
	pump_jobs();
	if (__atomic_exchange_n(&db.status_dirty, false, __ATOMIC_ACQ_REL)) {
		sd_bus_emit_properties_changed(db.bus, LXD_DBUS_PATH,
					       LXD_DBUS_IFACE, "Status", "Model",
					       NULL);
		pump_loads();
	}
	return 0;
}

static void *dbus_main(void *arg)
{
	(void)arg;
	sd_event_loop(db.event);
	return NULL;
}

bool lxd_dbus_start(const struct lxd_config *c)
{
	int r;

	db.user = c->user;
	r = c->user ? sd_bus_open_user(&db.bus) : sd_bus_open_system(&db.bus);
	if (r < 0) {
		lxd_warn("D-Bus: cannot connect to the %s bus: %s; no D-Bus interface",
			 c->user ? "session" : "system", strerror(-r));
		return false;
	}
	r = sd_bus_add_object_vtable(db.bus, &db.vtable_slot, LXD_DBUS_PATH,
				     LXD_DBUS_IFACE, vtable, NULL);
	if (r >= 0)
		r = sd_bus_match_signal(db.bus, NULL, "org.freedesktop.DBus",
					"/org/freedesktop/DBus",
					"org.freedesktop.DBus",
					"NameOwnerChanged", name_owner_changed,
					NULL);
	if (r >= 0)
		r = sd_bus_request_name(db.bus, LXD_DBUS_NAME, 0);
	if (r < 0) {
		lxd_warn("D-Bus: cannot offer %s: %s; no D-Bus interface",
			 LXD_DBUS_NAME, strerror(-r));
		goto fail;
	}
	db.efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (db.efd < 0 || sd_event_new(&db.event) < 0 ||
	    sd_event_add_io(db.event, NULL, db.efd, EPOLLIN, on_wake, NULL) < 0 ||
	    sd_bus_attach_event(db.bus, db.event, 0) < 0) {
		lxd_warn("D-Bus: cannot set up the event loop");
		goto fail;
	}
	if (pthread_create(&db.thread, NULL, dbus_main, NULL) != 0)
		goto fail;
	db.running = true;
	lxd_notice("D-Bus: %s on the %s bus", LXD_DBUS_NAME,
		   c->user ? "session" : "system");
	return true;
fail:
	db.vtable_slot = sd_bus_slot_unref(db.vtable_slot);
	db.bus = sd_bus_flush_close_unref(db.bus);
	db.event = sd_event_unref(db.event);
	if (db.efd >= 0)
		close(db.efd);
	db.efd = -1;
	return false;
}

void lxd_dbus_stop(void)
{
	struct djob *d;

	if (!db.running)
		return;
	__atomic_store_n(&db.quit, true, __ATOMIC_RELEASE);
	wake();
	pthread_join(db.thread, NULL);
	db.running = false;
	while ((d = db.jobs)) {
		db.jobs = d->next;
		lxd_job_cancel(d->job);
		if (d->call)
			sd_bus_reply_method_errorf(d->call, ERR_FAILED,
						   "the service is stopping");
		djob_free(d);
	}
	while (db.loads) {
		sd_bus_reply_method_errorf(db.loads->call, ERR_FAILED,
					   "the service is stopping");
		load_free(db.loads);
	}
	sd_bus_release_name(db.bus, LXD_DBUS_NAME);
	db.vtable_slot = sd_bus_slot_unref(db.vtable_slot);
	db.bus = sd_bus_flush_close_unref(db.bus);
	db.polkit_bus = sd_bus_flush_close_unref(db.polkit_bus);
	db.event = sd_event_unref(db.event);
	close(db.efd);
	db.efd = -1;
}
