// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * llamuxd's counters and their Prometheus text exposition (GET /metrics):
 * requests by status class, rejections, cancellations, tokens, engine time
 * and speeds, queue depth and busy slots.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llamuxd.h"

struct lxd_metrics lxd_metrics;

struct buf {
	char *p;
	size_t len, cap;
	bool oom;
};

static void put(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		if (b->oom)
			return;
		va_start(ap, fmt);
		n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->oom = true;
			return;
		}
		if (b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		b->cap = (b->len + (size_t)n + 1) * 2;
		b->p = realloc(b->p, b->cap);
		if (!b->p)
			b->oom = true;
	}
}

static uint64_t get(const uint64_t *v)
{
	return __atomic_load_n(v, __ATOMIC_RELAXED);
}

static void metric(struct buf *b, const char *name, const char *type,
		   const char *help)
{
	put(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

char *lxd_metrics_render(void)
{
	struct lxd_metrics *m = &lxd_metrics;
	struct lxd_engine_info info;
	struct buf b = { .cap = 4096 };
	double gen_s, prompt_s;
	int i;

	b.p = malloc(b.cap);
	if (!b.p)
		return NULL;
	lxd_engine_info(&info);
	gen_s = (double)get(&m->generate_ns) / 1e9;
	prompt_s = (double)get(&m->prompt_ns) / 1e9;

	metric(&b, "llamux_requests_total", "counter",
	       "HTTP requests answered, by status class");
	for (i = 1; i <= 5; i++)
		put(&b, "llamux_requests_total{code=\"%dxx\"} %llu\n", i,
		    (unsigned long long)get(&m->http_by_code[i]));
	metric(&b, "llamux_errors_total", "counter",
	       "requests that ended in an error, by kind");
	put(&b, "llamux_errors_total{kind=\"client\"} %llu\n",
	    (unsigned long long)get(&m->errors_4xx));
	put(&b, "llamux_errors_total{kind=\"server\"} %llu\n",
	    (unsigned long long)get(&m->errors_5xx));
	put(&b, "llamux_errors_total{kind=\"rejected\"} %llu\n",
	    (unsigned long long)get(&m->requests_rejected));
	put(&b, "llamux_errors_total{kind=\"timeout\"} %llu\n",
	    (unsigned long long)get(&m->requests_timeout));
	metric(&b, "llamux_requests_cancelled_total", "counter",
	       "generations cancelled because the client went away");
	put(&b, "llamux_requests_cancelled_total %llu\n",
	    (unsigned long long)get(&m->requests_cancelled));
	metric(&b, "llamux_generation_requests_total", "counter",
	       "generation requests that ran in a slot");
	put(&b, "llamux_generation_requests_total %llu\n",
	    (unsigned long long)get(&m->requests_total));
	metric(&b, "llamux_request_duration_seconds_total", "counter",
	       "summed time of generation requests, queue included");
	put(&b, "llamux_request_duration_seconds_total %.6f\n",
	    (double)get(&m->request_ns) / 1e9);
	metric(&b, "llamux_prompt_tokens_total", "counter",
	       "prompt tokens evaluated");
	put(&b, "llamux_prompt_tokens_total %llu\n",
	    (unsigned long long)get(&m->prompt_tokens));
	metric(&b, "llamux_generated_tokens_total", "counter",
	       "tokens generated");
	put(&b, "llamux_generated_tokens_total %llu\n",
	    (unsigned long long)get(&m->generated_tokens));
	metric(&b, "llamux_prompt_seconds_total", "counter",
	       "engine time spent evaluating prompts");
	put(&b, "llamux_prompt_seconds_total %.6f\n", prompt_s);
	metric(&b, "llamux_generate_seconds_total", "counter",
	       "engine time spent in generation steps");
	put(&b, "llamux_generate_seconds_total %.6f\n", gen_s);
	metric(&b, "llamux_prompt_tokens_per_second", "gauge",
	       "prompt evaluation speed over the service's life");
	put(&b, "llamux_prompt_tokens_per_second %.3f\n",
	    prompt_s > 0 ? (double)get(&m->prompt_tokens) / prompt_s : 0.0);
	metric(&b, "llamux_generation_tokens_per_second", "gauge",
	       "generation speed of the batched steps over the service's life");
	put(&b, "llamux_generation_tokens_per_second %.3f\n",
	    gen_s > 0 ? (double)get(&m->batched_rows) / gen_s : 0.0);
	metric(&b, "llamux_decode_steps_total", "counter",
	       "batched generation steps (one forward pass each)");
	put(&b, "llamux_decode_steps_total %llu\n",
	    (unsigned long long)get(&m->decode_steps));
	metric(&b, "llamux_decode_rows_total", "counter",
	       "slots fed over all generation steps");
	put(&b, "llamux_decode_rows_total %llu\n",
	    (unsigned long long)get(&m->batched_rows));
	metric(&b, "llamux_queue_depth", "gauge", "requests waiting for a slot");
	put(&b, "llamux_queue_depth %u\n", info.queued);
	metric(&b, "llamux_queue_capacity", "gauge",
	       "requests that may wait for a slot");
	put(&b, "llamux_queue_capacity %u\n", info.queue_max);
	metric(&b, "llamux_slots_busy", "gauge", "slots generating");
	put(&b, "llamux_slots_busy %u\n", info.busy);
	metric(&b, "llamux_slots_total", "gauge", "slots (--parallel)");
	put(&b, "llamux_slots_total %u\n", info.slots);
	metric(&b, "llamux_http_connections", "gauge", "open HTTP connections");
	put(&b, "llamux_http_connections %u\n", lxd_http_connections());
	metric(&b, "llamux_model_loaded", "gauge",
	       "1 when a model is loaded and ready");
	put(&b, "llamux_model_loaded{model=\"%s\"} %d\n", info.model_name,
	    info.status == LXD_STATUS_READY);
	if (b.oom) {
		free(b.p);
		return NULL;
	}
	return b.p;
}
