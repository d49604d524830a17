/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * llamuxd, the Llamux service: shared declarations of its parts. The
 * configuration (config.c), logging (log.c), the inference engine with its
 * slots, queue and batched decoding (engine.c), the OpenAI-style HTTP API
 * (http.c, api.c), Prometheus metrics (metrics.c) and the D-Bus interface
 * (dbus.c); main.c ties them together.
 */
#ifndef LLAMUXD_H
#define LLAMUXD_H

#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "llamux/llamux.h"

#define LXD_NAME "llamuxd"
#define LXD_DBUS_NAME "org.llamux.Llamux1"
#define LXD_DBUS_PATH "/org/llamux/Llamux1"
#define LXD_DBUS_IFACE "org.llamux.Llamux1"
#define LXD_POLKIT_LOAD_MODEL "org.llamux.Llamux1.load-model"
#define LXD_MAX_STOP 8		/* stop strings per request (API + template) */

/* ---- logging (log.c) ---- */

enum lxd_log_level {
	LXD_LOG_ERR = 3,	/* syslog priorities, for the journal */
	LXD_LOG_WARNING = 4,
	LXD_LOG_NOTICE = 5,
	LXD_LOG_INFO = 6,
	LXD_LOG_DEBUG = 7,
};

void lxd_log_init(void);
void lxd_log_set_level(int level);
bool lxd_log_parse_level(const char *s, int *level);
void lxd_log(int level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
#define lxd_err(...) lxd_log(LXD_LOG_ERR, __VA_ARGS__)
#define lxd_warn(...) lxd_log(LXD_LOG_WARNING, __VA_ARGS__)
#define lxd_notice(...) lxd_log(LXD_LOG_NOTICE, __VA_ARGS__)
#define lxd_info(...) lxd_log(LXD_LOG_INFO, __VA_ARGS__)
#define lxd_debug(...) lxd_log(LXD_LOG_DEBUG, __VA_ARGS__)

/* Monotonic clock in nanoseconds. */
uint64_t lxd_now_ns(void);

/* ---- configuration (config.c) ---- */

struct lxd_config {
	char *model;		/* path or name (see lxd_resolve_model) */
	char *model_dir;	/* where LoadModel names are looked up */
	char *host;
	long port;		/* 0: no TCP listener */
	char *socket_path;	/* "" : no Unix-socket listener */
	long socket_mode;
	long parallel;		/* slots */
	long queue;		/* requests waiting beyond the slots */
	char *api_key;		/* "" : none */
	long ctx_size;		/* tokens per slot; 0: the model's, <= 4096 */
	long threads;		/* 0: the CPUs less one, at least 1 */
	long max_tokens;	/* cap on tokens generated per request */
	long timeout;		/* seconds a request may take */
	long max_body;		/* bytes of a request body */
	long idle_timeout;	/* seconds an idle connection is kept */
	long max_connections;
	long grace_period;	/* seconds SIGTERM waits for requests */
	int log_level;
	bool dbus;
	bool mmap;		/* no: models read into memory (--no-mmap) */
	bool user;		/* --user: session bus, per-user paths */
	char *config_path;
};

/*
 * Parses argv (errors printed, exit code in *exit_code when false; true
 * with *exit_code = 0 after --help/--version means "exit now"), then reads
 * the configuration files. Flags override the files.
 */
bool lxd_config_init(struct lxd_config *c, int argc, char **argv,
		     int *exit_code);
/* Re-reads the files (SIGHUP) into a fresh copy; flags still win. */
bool lxd_config_reload(const struct lxd_config *old, struct lxd_config *c);
void lxd_config_free(struct lxd_config *c);
/* A model path for a name: paths stay, NAME becomes DIR/NAME.gguf. */
char *lxd_resolve_model(const struct lxd_config *c, const char *name);

/* The configuration in force; readers hold it for a short while. */
const struct lxd_config *lxd_config_get(void);
void lxd_config_put(void);
/* Replaces the configuration in force (takes ownership of c's strings). */
void lxd_config_set(const struct lxd_config *c);

/* ---- metrics (metrics.c) ---- */

struct lxd_metrics {
	uint64_t requests_total;
	uint64_t requests_rejected;	/* 503 because the queue was full */
	uint64_t requests_cancelled;	/* the client went away */
	uint64_t requests_timeout;
	uint64_t errors_4xx, errors_5xx;
	uint64_t prompt_tokens, generated_tokens;
	uint64_t prompt_ns, generate_ns;	/* engine time in each phase */
	uint64_t decode_steps, batched_rows;	/* batched steps, their rows */
	uint64_t request_ns;		/* summed request latency */
	uint64_t http_by_code[6];	/* 1xx..5xx, index code / 100 */
};

extern struct lxd_metrics lxd_metrics;
#define lxd_metric_add(field, v) \
	__atomic_fetch_add(&lxd_metrics.field, (v), __ATOMIC_RELAXED)

/* Prometheus text exposition; malloc'd. */
char *lxd_metrics_render(void);

/* ---- the engine (engine.c) ---- */

enum lxd_finish {
	LXD_FINISH_NONE = 0,
	LXD_FINISH_STOP,	/* end of generation or a stop string */
	LXD_FINISH_LENGTH,	/* max_tokens or the context is full */
	LXD_FINISH_TIMEOUT,	/* the per-request time limit */
	LXD_FINISH_CANCELLED,
	LXD_FINISH_ERROR,
};

enum lxd_status {
	LXD_STATUS_LOADING,
	LXD_STATUS_READY,
	LXD_STATUS_FAILED,	/* no model could be loaded */
	LXD_STATUS_STOPPING,
};

struct lxd_job;
typedef void (*lxd_job_notify_fn)(struct lxd_job *j, void *arg);

struct lxd_job {
	/* Set before lxd_engine_submit, then read-only. */
	uint64_t id;
	int32_t *tokens;		/* the prompt; owned */
	uint32_t n_tokens;
	struct llamux_sampler_params sp;
	uint32_t max_tokens;
	char *stop[LXD_MAX_STOP];	/* stop strings; owned */
	uint32_t n_stop;
	int32_t stop_tok[LXD_MAX_STOP];	/* extra end-of-turn tokens */
	uint32_t n_stop_tok;
	uint64_t deadline_ns;		/* 0: none */
	uint64_t model_gen;		/* the model the tokens belong to */
	lxd_job_notify_fn notify;	/* engine thread, after new output;
					 * called under lock */
	void *notify_arg;

	/* Shared with the engine; under lock. */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char *text;			/* produced, not yet taken */
	size_t text_len, text_cap;
	size_t *marks;			/* where each token's text ends */
	size_t n_marks, marks_cap;
	uint32_t n_gen;			/* tokens generated (atomic) */
	uint32_t n_gen_at_cancel;	/* n_gen when cancel was asked */
	bool started, done;
	enum lxd_finish finish;
	char error[LLAMUX_ERR_MAX];
	int refs;
	bool cancel;			/* atomic */
	uint64_t t_submit, t_start, t_end;

	struct lxd_job *next;		/* engine queue */
};

/* A job with one reference, owned by the caller. */
struct lxd_job *lxd_job_new(void);
void lxd_job_get(struct lxd_job *j);
void lxd_job_put(struct lxd_job *j);
void lxd_job_cancel(struct lxd_job *j);
/* No more notify calls after this returns. */
void lxd_job_detach(struct lxd_job *j);
/* Appends a stop string (copied); false when full or out of memory. */
bool lxd_job_add_stop(struct lxd_job *j, const char *s, size_t len);
/*
 * Waits up to timeout_ms for output or the end; moves the produced text to
 * *text (malloc'd, NUL-terminated, NULL when none) and returns whether the
 * job is done.
 */
bool lxd_job_wait_take(struct lxd_job *j, int timeout_ms, char **text,
		       size_t *len);
/*
 * The same without waiting, keeping token boundaries: *marks (malloc'd,
 * *n_marks entries) are the offsets in *text where each token's text ends.
 */
bool lxd_job_take_tokens(struct lxd_job *j, char **text, size_t *len,
			 size_t **marks, size_t *n_marks);

struct lxd_engine_info {
	enum lxd_status status;
	char model_name[256];		/* general.name or the file's name */
	char model_path[1024];
	uint32_t n_ctx, n_vocab;
	uint32_t slots, busy, queued, queue_max;
	uint64_t model_gen;
	uint64_t loaded_at;		/* unix time */
	bool load_pending;		/* a model swap waits or runs */
};

/* Starts the engine thread, which loads model_path. */
bool lxd_engine_start(const struct lxd_config *c, const char *model_path);
/* Swaps the model when the running requests have finished. */
void lxd_engine_load(const char *model_path);
/* New limits after a reload (queue length). */
void lxd_engine_reconfigure(const struct lxd_config *c);
void lxd_engine_info(struct lxd_engine_info *info);
/*
 * Hands the job to the engine (it takes its own reference). Returns 0,
 * -EBUSY when the slots and the queue are full, -EAGAIN while no model
 * is loaded, -ESHUTDOWN while stopping, -ESTALE when the model changed
 * after the prompt was tokenized.
 */
int lxd_engine_submit(struct lxd_job *j);
/* Requests running or waiting. */
uint32_t lxd_engine_pending(void);
/* Stops taking requests; waits up to grace_ns for running ones, then
 * cancels what is left and joins the thread.
 */
void lxd_engine_stop(uint64_t grace_ns);
/* Cancels every job (used at exit). */
void lxd_engine_cancel_all(void);

/*
 * The loaded model, for tokenizing in request threads: held under a read
 * lock until lxd_engine_model_put(). NULL (nothing held) when none.
 */
const struct llamux_model *lxd_engine_model_get(uint64_t *gen);
void lxd_engine_model_put(void);

/* ---- requests shared by HTTP and D-Bus (api.c) ---- */

struct lxd_api_error {
	int status;		/* HTTP status */
	const char *type;	/* OpenAI error type */
	const char *code;	/* OpenAI error code or NULL */
	const char *param;	/* offending parameter or NULL */
	char message[512];
};

struct chat_msg;

/*
 * Fills the job's prompt from text (add_special: BOS as the vocabulary
 * asks) or from a chat conversation through the model's template (its
 * end-of-turn strings become stops). False with *e set on error, e.g. a
 * prompt longer than the context.
 */
bool lxd_job_prompt_text(struct lxd_job *j, const char *text, size_t len,
			 struct lxd_api_error *e);
bool lxd_job_prompt_chat(struct lxd_job *j, const struct chat_msg *msgs,
			 size_t n, struct lxd_api_error *e);
/* Limits from the configuration: max_tokens cap and the deadline. */
void lxd_job_apply_limits(struct lxd_job *j, long max_tokens);
/* The error for a failed lxd_engine_submit. */
void lxd_submit_error(int rc, struct lxd_api_error *e);
void lxd_api_error_set(struct lxd_api_error *e, int status, const char *type,
		       const char *code, const char *param, const char *fmt,
		       ...) __attribute__((format(printf, 6, 7)));
/* OpenAI's finish_reason for a finished job. */
const char *lxd_finish_reason(enum lxd_finish f);
/* Sampling defaults for API requests (llamux's, seed from the clock). */
void lxd_sampler_defaults(struct llamux_sampler_params *sp);

/* ---- HTTP (http.c) ---- */

/* Starts the TCP and Unix-socket listeners (or the systemd-passed ones). */
bool lxd_http_start(const struct lxd_config *c);
/* Stops accepting new connections (SIGTERM). */
void lxd_http_quiesce(void);
void lxd_http_stop(void);
/* Connections open now. */
unsigned int lxd_http_connections(void);

/* ---- D-Bus (dbus.c) ---- */

bool lxd_dbus_start(const struct lxd_config *c);
void lxd_dbus_stop(void);
/* Emits PropertiesChanged for Status/Model (any thread). */
void lxd_dbus_status_changed(void);

/* ---- main.c ---- */

/* True once SIGTERM started the shutdown. */
bool lxd_stopping(void);

#endif
