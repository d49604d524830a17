// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The engine of llamuxd: one thread owns the model and --parallel slots,
 * each a llamux context (its own KV cache) with a sampler. Requests (jobs)
 * wait in a bounded FIFO queue until a slot is free. Every step the thread
 * evaluates the prompts of newly started jobs (llamux_decode on the slot's
 * context), then feeds the last sampled token of every generating slot to
 * one batched forward pass (llamux_decode_multi), which gives each context
 * the logits a single step would, so greedy output does not depend on what
 * else runs. Output is detokenized as it is produced (whole UTF-8
 * characters only), checked against stop strings and handed to the job's
 * owner. A finished or cancelled job frees its slot at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "llamuxd.h"

#define LX_MIN_SZ(a, b) ((size_t)(a) < (size_t)(b) ? (size_t)(a) : (size_t)(b))
#define LX_MIN_U32(a, b) ((uint32_t)(a) < (uint32_t)(b) ? (uint32_t)(a) : (uint32_t)(b))

enum slot_state { SLOT_FREE, SLOT_PROMPT, SLOT_GEN };

struct slot {
	enum slot_state state;
	struct llamux_context *ctx;
	struct llamux_sampler *smp;
	struct lxd_job *job;
	uint32_t n_fed;			/* prompt tokens evaluated */
	int32_t last;			/* token to feed next */
	struct llamux_detok detok;
	char *held;			/* text that may start a stop string */
	size_t held_len, held_cap;
};

static struct engine {
	pthread_t thread;
	bool running;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_cond_t idle;		/* a job finished */
	pthread_rwlock_t model_lock;	/* held for writing to swap models */

	/* under lock */
	enum lxd_status status;
	struct lxd_job *head, *tail;	/* queue */
	uint32_t queued, busy;
	uint32_t queue_max;
	char *load_path;		/* a model to switch to */
	bool quit, draining;

	/* engine thread (model also read by others under model_lock) */
	struct llamux_model *model;
	uint64_t model_gen;
	struct llamux_context_params cp;
	struct slot *slots;
	uint32_t n_slots;
	struct llamux_context **batch_ctx;
	int32_t *batch_tok;
	struct slot **batch_slot;

	/* info, under lock */
	char model_name[256];
	char model_path[1024];
	uint32_t n_ctx, n_vocab;
	uint64_t loaded_at;
} eng = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.wake = PTHREAD_COND_INITIALIZER,
	.idle = PTHREAD_COND_INITIALIZER,
	.model_lock = PTHREAD_RWLOCK_INITIALIZER,
};

/* ---- jobs ---- */

struct lxd_job *lxd_job_new(void)
{
	struct lxd_job *j = calloc(1, sizeof(*j));

	if (!j)
		return NULL;
	pthread_mutex_init(&j->lock, NULL);
	pthread_cond_init(&j->cond, NULL);
	j->refs = 1;
	return j;
}

void lxd_job_get(struct lxd_job *j)
{
	pthread_mutex_lock(&j->lock);
	j->refs++;
	pthread_mutex_unlock(&j->lock);
}

void lxd_job_put(struct lxd_job *j)
{
	uint32_t i;
	int left;

	if (!j)
		return;
	pthread_mutex_lock(&j->lock);
	left = --j->refs;
	pthread_mutex_unlock(&j->lock);
	if (left)
		return;
	free(j->tokens);
	for (i = 0; i < j->n_stop; i++)
		free(j->stop[i]);
	free(j->text);
	free(j->marks);
	pthread_mutex_destroy(&j->lock);
	pthread_cond_destroy(&j->cond);
	free(j);
}

void lxd_job_cancel(struct lxd_job *j)
{
	if (!__atomic_load_n(&j->cancel, __ATOMIC_ACQUIRE))
		__atomic_store_n(&j->n_gen_at_cancel,
				 __atomic_load_n(&j->n_gen, __ATOMIC_ACQUIRE),
				 __ATOMIC_RELEASE);
	__atomic_store_n(&j->cancel, true, __ATOMIC_RELEASE);
	pthread_mutex_lock(&eng.lock);
	pthread_cond_signal(&eng.wake);
	pthread_mutex_unlock(&eng.lock);
}

bool lxd_job_add_stop(struct lxd_job *j, const char *s, size_t len)
{
	uint32_t i;

	if (!len)
		return true;
	for (i = 0; i < j->n_stop; i++)
		if (strlen(j->stop[i]) == len && !memcmp(j->stop[i], s, len))
			return true;
	if (j->n_stop >= LXD_MAX_STOP)
		return false;
	j->stop[j->n_stop] = strndup(s, len);
	if (!j->stop[j->n_stop])
		return false;
	j->n_stop++;
	return true;
}

bool lxd_job_wait_take(struct lxd_job *j, int timeout_ms, char **text,
		       size_t *len)
{
	bool done;

	*text = NULL;
	*len = 0;
	pthread_mutex_lock(&j->lock);
	if (!j->text_len && !j->done && timeout_ms > 0) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		ts.tv_sec += timeout_ms / 1000 + ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&j->cond, &j->lock, &ts);
	}
	if (j->text_len) {
		*text = j->text;
		*len = j->text_len;
		j->text = NULL;
		j->text_len = j->text_cap = 0;
	}
	j->n_marks = 0;
	done = j->done;
	pthread_mutex_unlock(&j->lock);
	return done;
}

bool lxd_job_take_tokens(struct lxd_job *j, char **text, size_t *len,
			 size_t **marks, size_t *n_marks)
{
	bool done;

	*text = NULL;
	*len = 0;
	*marks = NULL;
	*n_marks = 0;
	pthread_mutex_lock(&j->lock);
	if (j->text_len) {
		*text = j->text;
		*len = j->text_len;
		*marks = j->marks;
		*n_marks = j->n_marks;
		j->text = NULL;
		j->text_len = j->text_cap = 0;
		j->marks = NULL;
		j->n_marks = j->marks_cap = 0;
	}
	done = j->done;
	pthread_mutex_unlock(&j->lock);
	return done;
}

/* Engine side: adds text for the owner (under the job's lock). */
static bool job_append(struct lxd_job *j, const char *s, size_t n)
{
	if (j->text_len + n + 1 > j->text_cap) {
		size_t cap = (j->text_len + n + 1) * 2 + 64;
		char *p = realloc(j->text, cap);

		if (!p)
			return false;
		j->text = p;
		j->text_cap = cap;
	}
	memcpy(j->text + j->text_len, s, n);
	j->text_len += n;
	j->text[j->text_len] = '\0';
	return true;
}

/* ---- UTF-8 ---- */

/* Length of a valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
static size_t utf8_valid(const unsigned char *s, size_t n)
{
	size_t len, i;
	uint32_t cp;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		len = 2, cp = s[0] & 0x1F;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		len = 3, cp = s[0] & 0x0F;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		len = 4, cp = s[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
	    (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	return len;
}

/*
 * Copies src to dst replacing bytes that are not valid UTF-8 with U+FFFD
 * (dst: 3 * n bytes). The detokenizer emits whole characters, or bytes
 * that never make one: those are what gets replaced.
 */
static size_t utf8_sanitize(const char *src, size_t n, char *dst)
{
	const unsigned char *s = (const unsigned char *)src;
	size_t i = 0, w = 0, l;

	while (i < n) {
		l = utf8_valid(s + i, n - i);
		if (l) {
			memcpy(dst + w, s + i, l);
			w += l;
			i += l;
		} else {
			memcpy(dst + w, "\xEF\xBF\xBD", 3);
			w += 3;
			i++;
		}
	}
	return w;
}

/* ---- slots ---- */

/* Wakes the job's owner; the callback is read under the lock, so an
 * owner that clears it (lxd_job_detach) is never called afterwards.
 */
static void notify(struct lxd_job *j)
{
	pthread_mutex_lock(&j->lock);
	pthread_cond_broadcast(&j->cond);
	if (j->notify)
		j->notify(j, j->notify_arg);
	pthread_mutex_unlock(&j->lock);
}

void lxd_job_detach(struct lxd_job *j)
{
	pthread_mutex_lock(&j->lock);
	j->notify = NULL;
	j->notify_arg = NULL;
	pthread_mutex_unlock(&j->lock);
}

static void publish(struct slot *s, const char *text, size_t n)
{
	struct lxd_job *j = s->job;

	if (!n)
		return;
	pthread_mutex_lock(&j->lock);
	if (job_append(j, text, n)) {
		if (j->n_marks == j->marks_cap) {
			size_t cap = j->marks_cap * 2 + 16;
			size_t *m = realloc(j->marks, cap * sizeof(*m));

			if (m) {
				j->marks = m;
				j->marks_cap = cap;
			}
		}
		if (j->n_marks < j->marks_cap)
			j->marks[j->n_marks++] = j->text_len;
	}
	pthread_mutex_unlock(&j->lock);
}

static void finish(struct slot *s, enum lxd_finish why, const char *err)
{
	struct lxd_job *j = s->job;
	char tail[64];
	size_t n;

	if (why != LXD_FINISH_STOP && why != LXD_FINISH_CANCELLED &&
	    why != LXD_FINISH_ERROR) {
		/* Cut off: what was held back and an unfinished character
		 * belong to the output.
		 */
		publish(s, s->held, s->held_len);
		n = llamux_detok_flush(&s->detok, tail, sizeof(tail));
		if (n) {
			char clean[3 * sizeof(tail)];

			publish(s, clean, utf8_sanitize(tail, n, clean));
		}
	}
	s->held_len = 0;
	pthread_mutex_lock(&j->lock);
	j->finish = why;
	if (err)
		snprintf(j->error, sizeof(j->error), "%s", err);
	j->done = true;
	j->t_end = lxd_now_ns();
	pthread_mutex_unlock(&j->lock);
	notify(j);
	lxd_metric_add(request_ns, j->t_end - j->t_submit);
	if (why == LXD_FINISH_CANCELLED)
		lxd_metric_add(requests_cancelled, 1);
	else if (why == LXD_FINISH_TIMEOUT)
		lxd_metric_add(requests_timeout, 1);
	if (why == LXD_FINISH_CANCELLED)
		lxd_info("job %llu cancelled after %u tokens (%u when cancelled)",
			 (unsigned long long)j->id, j->n_gen,
			 __atomic_load_n(&j->n_gen_at_cancel, __ATOMIC_ACQUIRE));
	else
		lxd_log(why == LXD_FINISH_TIMEOUT ? LXD_LOG_INFO : LXD_LOG_DEBUG,
			"job %llu %s after %u tokens", (unsigned long long)j->id,
			why == LXD_FINISH_TIMEOUT ? "timed out" : "finished",
			j->n_gen);
	lxd_job_put(j);
	llamux_sampler_free(s->smp);
	s->smp = NULL;
	s->job = NULL;
	s->state = SLOT_FREE;
	pthread_mutex_lock(&eng.lock);
	if (!--eng.busy)
		lxd_dbus_status_changed();	/* busy -> ready */
	pthread_cond_broadcast(&eng.idle);
	pthread_mutex_unlock(&eng.lock);
}

static bool held_append(struct slot *s, const char *p, size_t n)
{
	if (s->held_len + n > s->held_cap) {
		size_t cap = (s->held_len + n) * 2 + 64;
		char *q = realloc(s->held, cap);

		if (!q)
			return false;
		s->held = q;
		s->held_cap = cap;
	}
	memcpy(s->held + s->held_len, p, n);
	s->held_len += n;
	return true;
}

/*
 * New text of the slot: a stop string ends the job there; text that could
 * be the start of a stop string waits for the next token.
 */
static bool take_text(struct slot *s, const char *p, size_t n)
{
	struct lxd_job *j = s->job;
	size_t keep = 0, i, k, sl;
	const char *hit = NULL;

	if (!j->n_stop) {
		publish(s, p, n);
		return false;
	}
	if (!held_append(s, p, n)) {
		publish(s, p, n);
		return false;
	}
	for (i = 0; i < j->n_stop; i++) {
		const char *f = memmem(s->held, s->held_len, j->stop[i],
				       strlen(j->stop[i]));

		if (f && (!hit || f < hit))
			hit = f;
	}
	if (hit) {
		publish(s, s->held, (size_t)(hit - s->held));
		s->held_len = 0;
		return true;
	}
	/* The longest tail of held that begins some stop string. */
	for (i = 0; i < j->n_stop; i++) {
		sl = strlen(j->stop[i]);
		for (k = LX_MIN_SZ(sl - 1, s->held_len); k > keep; k--) {
			if (!memcmp(s->held + s->held_len - k, j->stop[i], k)) {
				keep = k;
				break;
			}
		}
	}
	publish(s, s->held, s->held_len - keep);
	memmove(s->held, s->held + s->held_len - keep, keep);
	s->held_len = keep;
	return false;
}

static bool is_stop_token(const struct lxd_job *j, int32_t tok)
{
	uint32_t i;

	if (llamux_token_is_eog(eng.model, tok))
		return true;
	for (i = 0; i < j->n_stop_tok; i++)
		if (j->stop_tok[i] == tok)
			return true;
	return false;
}

/* Samples the slot's next token; false when the job ended. */
static bool sample_next(struct slot *s)
{
	struct lxd_job *j = s->job;
	char piece[512], clean[3 * sizeof(piece)];
	int32_t tok;
	size_t n;

	tok = llamux_sample(s->smp, llamux_logits(s->ctx));
	if (is_stop_token(j, tok)) {
		finish(s, LXD_FINISH_STOP, NULL);
		return false;
	}
	__atomic_store_n(&j->n_gen, j->n_gen + 1, __ATOMIC_RELEASE);
	lxd_metric_add(generated_tokens, 1);
	n = llamux_detok_push(eng.model, &s->detok, tok, piece, sizeof(piece));
	if (take_text(s, clean, utf8_sanitize(piece, LX_MIN_SZ(n, sizeof(piece)),
					      clean))) {
		notify(j);
		finish(s, LXD_FINISH_STOP, NULL);
		return false;
	}
	notify(j);
	if (j->n_gen >= j->max_tokens ||
	    llamux_n_past(s->ctx) >= llamux_n_ctx(s->ctx)) {
		finish(s, LXD_FINISH_LENGTH, NULL);
		return false;
	}
	s->last = tok;
	return true;
}

static void start(struct slot *s, struct lxd_job *j)
{
	uint32_t i;

	s->job = j;
	s->n_fed = 0;
	s->held_len = 0;
	memset(&s->detok, 0, sizeof(s->detok));
	llamux_context_reset(s->ctx);
	pthread_mutex_lock(&j->lock);
	j->started = true;
	j->t_start = lxd_now_ns();
	pthread_mutex_unlock(&j->lock);
	if (j->model_gen != eng.model_gen) {
		finish(s, LXD_FINISH_ERROR,
		       "the model was changed while the request waited; send it again");
		return;
	}
	s->smp = llamux_sampler_new(&j->sp, llamux_n_vocab(eng.model));
	if (!s->smp) {
		finish(s, LXD_FINISH_ERROR, "out of memory for the sampler");
		return;
	}
	for (i = 0; i < j->n_tokens; i++)
		llamux_sampler_accept(s->smp, j->tokens[i]);
	s->state = SLOT_PROMPT;
}

/* Ends jobs whose owner cancelled them or whose time is up. */
static void check_ends(void)
{
	uint64_t now = lxd_now_ns();
	uint32_t i;

	for (i = 0; i < eng.n_slots; i++) {
		struct slot *s = &eng.slots[i];

		if (s->state == SLOT_FREE)
			continue;
		if (__atomic_load_n(&s->job->cancel, __ATOMIC_ACQUIRE))
			finish(s, LXD_FINISH_CANCELLED, NULL);
		else if (s->job->deadline_ns && now > s->job->deadline_ns)
			finish(s, LXD_FINISH_TIMEOUT, NULL);
	}
}

static void prompt_step(struct slot *s)
{
	struct lxd_job *j = s->job;
	char err[LLAMUX_ERR_MAX] = "";
	uint64_t t0 = lxd_now_ns();
	uint32_t n = LX_MIN_U32(j->n_tokens - s->n_fed, 512);
	int rc;

	rc = llamux_decode(s->ctx, j->tokens + s->n_fed, n, NULL, err);
	lxd_metric_add(prompt_ns, lxd_now_ns() - t0);
	if (rc != LLAMUX_OK) {
		lxd_warn("job %llu: prompt: %s", (unsigned long long)j->id, err);
		finish(s, LXD_FINISH_ERROR, err);
		return;
	}
	lxd_metric_add(prompt_tokens, n);
	s->n_fed += n;
	if (s->n_fed < j->n_tokens)
		return;
	if (sample_next(s))
		s->state = SLOT_GEN;
}

/* One batched forward pass over every generating slot. */
static void gen_step(void)
{
	char err[LLAMUX_ERR_MAX] = "";
	uint32_t n = 0, i;
	uint64_t t0;
	int rc;

	for (i = 0; i < eng.n_slots; i++) {
		struct slot *s = &eng.slots[i];

		if (s->state != SLOT_GEN)
			continue;
		eng.batch_ctx[n] = s->ctx;
		eng.batch_tok[n] = s->last;
		eng.batch_slot[n] = s;
		n++;
	}
	if (!n)
		return;
	t0 = lxd_now_ns();
	if (n == 1)
		rc = llamux_decode(eng.batch_ctx[0], eng.batch_tok, 1, NULL, err);
	else
		rc = llamux_decode_multi(eng.batch_ctx, eng.batch_tok, n, err);
	lxd_metric_add(generate_ns, lxd_now_ns() - t0);
	lxd_metric_add(decode_steps, 1);
	lxd_metric_add(batched_rows, n);
	for (i = 0; i < n; i++) {
		struct slot *s = eng.batch_slot[i];

		if (rc != LLAMUX_OK) {
			lxd_warn("job %llu: decode: %s",
				 (unsigned long long)s->job->id, err);
			finish(s, LXD_FINISH_ERROR, err);
			continue;
		}
		sample_next(s);
	}
}

/* ---- models ---- */

static void free_slots(void)
{
	uint32_t i;

	for (i = 0; i < eng.n_slots; i++) {
		llamux_context_free(eng.slots[i].ctx);
		llamux_sampler_free(eng.slots[i].smp);
		free(eng.slots[i].held);
	}
	free(eng.slots);
	eng.slots = NULL;
	eng.n_slots = 0;
}

static const char *base_name(const char *path)
{
	const char *b = strrchr(path, '/');

	return b ? b + 1 : path;
}

/* Loads path and makes the slots; the old model stays on failure. */
static bool load_model(const char *path)
{
	char err[LLAMUX_ERR_MAX] = "";
	struct llamux_model_info mi;
	struct llamux_model *m;
	struct slot *slots;
	uint32_t i, n = eng.n_slots ? eng.n_slots : 1;
	uint64_t t0 = lxd_now_ns();
	unsigned int flags;

	lxd_notice("loading model %s", path);
	/* Tests make the loading phase observable (GET /health says 503). */
	if (getenv("LLAMUXD_LOAD_DELAY_MS")) {
		struct timespec d = { 0, 0 };
		long ms = atol(getenv("LLAMUXD_LOAD_DELAY_MS"));

		d.tv_sec = ms / 1000;
		d.tv_nsec = (ms % 1000) * 1000000L;
		nanosleep(&d, NULL);
	}
	/* The configuration in force: mmap = no reads the file in. */
	flags = lxd_config_get()->mmap ? 0 : LLAMUX_LOAD_NO_MMAP;
	lxd_config_put();
	m = llamux_model_load(path, flags, err);
	if (!m) {
		lxd_err("cannot load model %s: %s", path, err);
		return false;
	}
	slots = calloc(n, sizeof(*slots));
	if (!slots) {
		llamux_model_free(m);
		return false;
	}
	for (i = 0; i < n; i++) {
		slots[i].ctx = llamux_context_new(m, &eng.cp, err);
		if (!slots[i].ctx) {
			lxd_err("model %s: cannot make context %u: %s", path, i,
				err);
			while (i--)
				llamux_context_free(slots[i].ctx);
			free(slots);
			llamux_model_free(m);
			return false;
		}
	}
	pthread_rwlock_wrlock(&eng.model_lock);
	free_slots();
	llamux_model_free(eng.model);
	eng.model = m;
	eng.slots = slots;
	eng.n_slots = n;
	eng.model_gen++;
	pthread_rwlock_unlock(&eng.model_lock);

	llamux_model_get_info(m, &mi);
	pthread_mutex_lock(&eng.lock);
	/* The file's name is the model's id: general.name is often generic. */
	snprintf(eng.model_name, sizeof(eng.model_name), "%s", base_name(path));
	if (strlen(eng.model_name) > 5 &&
	    !strcmp(eng.model_name + strlen(eng.model_name) - 5, ".gguf"))
		eng.model_name[strlen(eng.model_name) - 5] = '\0';
	snprintf(eng.model_path, sizeof(eng.model_path), "%s", path);
	eng.n_ctx = llamux_n_ctx(slots[0].ctx);
	eng.n_vocab = mi.n_vocab;
	eng.loaded_at = (uint64_t)time(NULL);
	eng.status = LXD_STATUS_READY;
	pthread_mutex_unlock(&eng.lock);
	lxd_notice("model %s ready: %s, %u slots of %u tokens (%.0f ms)",
		   eng.model_name, path, n, eng.n_ctx,
		   (double)(lxd_now_ns() - t0) / 1e6);
	lxd_dbus_status_changed();
	return true;
}

static bool any_busy(void)
{
	uint32_t i;

	for (i = 0; i < eng.n_slots; i++)
		if (eng.slots[i].state != SLOT_FREE)
			return true;
	return false;
}

static void fail_queue(const char *why)
{
	struct lxd_job *j;

	while ((j = eng.head)) {
		eng.head = j->next;
		eng.queued--;
		pthread_mutex_lock(&j->lock);
		j->finish = LXD_FINISH_ERROR;
		snprintf(j->error, sizeof(j->error), "%s", why);
		j->done = true;
		pthread_mutex_unlock(&j->lock);
		notify(j);
		lxd_job_put(j);
	}
	eng.tail = NULL;
}

static void *engine_main(void *arg)
{
	(void)arg;
	for (;;) {
		uint32_t i;

		pthread_mutex_lock(&eng.lock);
		while (!eng.quit && !eng.load_path && !any_busy() && !eng.head)
			pthread_cond_wait(&eng.wake, &eng.lock);
		if (eng.quit && !any_busy()) {
			fail_queue("the service is stopping");
			pthread_mutex_unlock(&eng.lock);
			break;
		}
		if (eng.load_path && !any_busy()) {
			char *path = eng.load_path;

			eng.load_path = NULL;
			eng.status = LXD_STATUS_LOADING;
			pthread_mutex_unlock(&eng.lock);
			lxd_dbus_status_changed();
			if (!load_model(path)) {
				pthread_mutex_lock(&eng.lock);
				eng.status = eng.model ? LXD_STATUS_READY :
					LXD_STATUS_FAILED;
				pthread_mutex_unlock(&eng.lock);
				lxd_dbus_status_changed();
			}
			free(path);
			continue;
		}
		/* New jobs into free slots, unless a model swap waits. */
		for (i = 0; i < eng.n_slots && eng.head && !eng.load_path; i++) {
			struct lxd_job *j;

			if (eng.slots[i].state != SLOT_FREE)
				continue;
			j = eng.head;
			eng.head = j->next;
			if (!eng.head)
				eng.tail = NULL;
			eng.queued--;
			if (!eng.busy++)
				lxd_dbus_status_changed();	/* ready -> busy */
			pthread_mutex_unlock(&eng.lock);
			start(&eng.slots[i], j);
			pthread_mutex_lock(&eng.lock);
		}
		pthread_mutex_unlock(&eng.lock);

		check_ends();
		for (i = 0; i < eng.n_slots; i++)
			if (eng.slots[i].state == SLOT_PROMPT)
				prompt_step(&eng.slots[i]);
		check_ends();
		gen_step();
	}
	return NULL;
}

bool lxd_engine_start(const struct lxd_config *c, const char *model_path)
{
	uint32_t n = (uint32_t)c->parallel;

	llamux_context_default_params(&eng.cp);
	eng.cp.n_ctx = (uint32_t)c->ctx_size;
	eng.cp.n_threads = (int32_t)c->threads;
	if (!eng.cp.n_threads) {
		/* One CPU stays with the connections, parsing and streaming. */
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		eng.cp.n_threads = cpus > 1 ? (int32_t)cpus - 1 : 1;
	}
	eng.queue_max = (uint32_t)c->queue;
	eng.status = LXD_STATUS_LOADING;
	eng.batch_ctx = calloc(n, sizeof(*eng.batch_ctx));
	eng.batch_tok = calloc(n, sizeof(*eng.batch_tok));
	eng.batch_slot = calloc(n, sizeof(*eng.batch_slot));
	eng.slots = calloc(n, sizeof(*eng.slots));
	eng.load_path = strdup(model_path);
	if (!eng.batch_ctx || !eng.batch_tok || !eng.batch_slot ||
	    !eng.slots || !eng.load_path)
		return false;
	/* Slots without contexts until the model is there. */
	eng.n_slots = n;
	if (pthread_create(&eng.thread, NULL, engine_main, NULL) != 0)
		return false;
	eng.running = true;
	return true;
}

void lxd_engine_load(const char *model_path)
{
	char *p = strdup(model_path);

	if (!p)
		return;
	pthread_mutex_lock(&eng.lock);
	free(eng.load_path);
	eng.load_path = p;
	pthread_cond_signal(&eng.wake);
	pthread_mutex_unlock(&eng.lock);
}

void lxd_engine_reconfigure(const struct lxd_config *c)
{
	pthread_mutex_lock(&eng.lock);
	eng.queue_max = (uint32_t)c->queue;
	pthread_mutex_unlock(&eng.lock);
}

void lxd_engine_info(struct lxd_engine_info *info)
{
	pthread_mutex_lock(&eng.lock);
	info->status = eng.draining ? LXD_STATUS_STOPPING : eng.status;
	memcpy(info->model_name, eng.model_name, sizeof(info->model_name));
	memcpy(info->model_path, eng.model_path, sizeof(info->model_path));
	info->n_ctx = eng.n_ctx;
	info->n_vocab = eng.n_vocab;
	info->slots = eng.n_slots;
	info->busy = eng.busy;
	info->queued = eng.queued;
	info->queue_max = eng.queue_max;
	info->model_gen = eng.model_gen;
	info->loaded_at = eng.loaded_at;
	info->load_pending = eng.load_path != NULL ||
			     eng.status == LXD_STATUS_LOADING;
	pthread_mutex_unlock(&eng.lock);
}

int lxd_engine_submit(struct lxd_job *j)
{
	int rc = 0;

	pthread_mutex_lock(&eng.lock);
	if (eng.draining || eng.quit)
		rc = -ESHUTDOWN;
	else if (eng.status != LXD_STATUS_READY || eng.load_path)
		rc = -EAGAIN;
	else if (j->model_gen != eng.model_gen)
		rc = -ESTALE;
	else if (eng.busy + eng.queued >= eng.n_slots + eng.queue_max)
		rc = -EBUSY;
	if (!rc) {
		static uint64_t next_id;

		lxd_job_get(j);
		j->id = ++next_id;
		j->t_submit = lxd_now_ns();
		j->next = NULL;
		if (eng.tail)
			eng.tail->next = j;
		else
			eng.head = j;
		eng.tail = j;
		eng.queued++;
		pthread_cond_signal(&eng.wake);
	}
	pthread_mutex_unlock(&eng.lock);
	if (rc == -EBUSY)
		lxd_metric_add(requests_rejected, 1);
	return rc;
}

uint32_t lxd_engine_pending(void)
{
	uint32_t n;

	pthread_mutex_lock(&eng.lock);
	n = eng.busy + eng.queued;
	pthread_mutex_unlock(&eng.lock);
	return n;
}

void lxd_engine_cancel_all(void)
{
	uint32_t i;

	pthread_mutex_lock(&eng.lock);
	fail_queue("the service is stopping");
	pthread_mutex_unlock(&eng.lock);
	/* Running jobs: the engine sees the flags at its next step. */
	pthread_rwlock_rdlock(&eng.model_lock);
	for (i = 0; i < eng.n_slots; i++) {
		struct lxd_job *j = __atomic_load_n(&eng.slots[i].job,
						    __ATOMIC_ACQUIRE);

		if (j)
			__atomic_store_n(&j->cancel, true, __ATOMIC_RELEASE);
	}
	pthread_rwlock_unlock(&eng.model_lock);
	pthread_mutex_lock(&eng.lock);
	pthread_cond_signal(&eng.wake);
	pthread_mutex_unlock(&eng.lock);
}

void lxd_engine_stop(uint64_t grace_ns)
{
	uint64_t end = lxd_now_ns() + grace_ns;

	pthread_mutex_lock(&eng.lock);
	eng.draining = true;
	while (eng.busy + eng.queued && lxd_now_ns() < end) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100000000L;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		pthread_cond_timedwait(&eng.idle, &eng.lock, &ts);
	}
	if (eng.busy + eng.queued)
		lxd_warn("grace period over: cancelling %u requests",
			 eng.busy + eng.queued);
	pthread_mutex_unlock(&eng.lock);
	lxd_engine_cancel_all();
	pthread_mutex_lock(&eng.lock);
	eng.quit = true;
	pthread_cond_signal(&eng.wake);
	pthread_mutex_unlock(&eng.lock);
	if (eng.running)
		pthread_join(eng.thread, NULL);
	eng.running = false;
	pthread_rwlock_wrlock(&eng.model_lock);
	free_slots();
	llamux_model_free(eng.model);
	eng.model = NULL;
	pthread_rwlock_unlock(&eng.model_lock);
	free(eng.batch_ctx);
	free(eng.batch_tok);
	free(eng.batch_slot);
	free(eng.load_path);
	eng.load_path = NULL;
}

const struct llamux_model *lxd_engine_model_get(uint64_t *gen)
{
	pthread_rwlock_rdlock(&eng.model_lock);
	if (!eng.model) {
		pthread_rwlock_unlock(&eng.model_lock);
		return NULL;
	}
	if (gen)
		*gen = eng.model_gen;
	return eng.model;
}

void lxd_engine_model_put(void)
{
	pthread_rwlock_unlock(&eng.model_lock);
}
