// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * `llamux run --backend kernel`: the same generation through /dev/llamux,
 * where llamux.ko holds the model. Output matches the in-process backend:
 * the prompt, the streamed continuation, a newline, timings on stderr.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"
#include "uapi/linux/llamux.h"

static uint32_t milli(float v)
{
	return (uint32_t)(v * 1000.0f + 0.5f);
}

/* Why the device cannot be used, in words a user can act on. */
static int open_error(int err)
{
	if (err == ENOENT)
		return cli_fail("%s does not exist: load the kernel module first (modprobe llamux)",
				LLAMUX_DEVICE);
	if (err == EACCES || err == EPERM)
		return cli_fail("no permission to open %s: add yourself to the 'llamux' group",
				LLAMUX_DEVICE);
	if (err == EBUSY)
		return cli_fail("%s: every session is in use (module parameter max_sessions)",
				LLAMUX_DEVICE);
	return cli_fail("cannot open %s: %s", LLAMUX_DEVICE, strerror(err));
}

/* "tinyllama.gguf" and "/x/tinyllama" name the same model. */
static bool same_model(const char *want, const char *loaded)
{
	const char *base = strrchr(want, '/');
	size_t n, m = strlen(loaded);

	base = base ? base + 1 : want;
	n = strlen(base);
	if (n > 5 && !strcmp(base + n - 5, ".gguf"))
		n -= 5;
	if (m > 5 && !strcmp(loaded + m - 5, ".gguf"))
		m -= 5;
	return n == m && !strncmp(base, loaded, n);
}

bool kernel_available(const char *model, char *why, size_t cap)
{
	struct llamux_model_desc desc;
	char buf[256];
	int fd;

	if (!why) {
		why = buf;
		cap = sizeof(buf);
	}
	fd = open(LLAMUX_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, cap, "%s: %s", LLAMUX_DEVICE, strerror(errno));
		return false;
	}
	if (ioctl(fd, LLAMUX_IOC_GET_MODEL, &desc) < 0) {
		close(fd);
		snprintf(why, cap, "the kernel module has no model loaded");
		return false;
	}
	close(fd);
	desc.file[sizeof(desc.file) - 1] = '\0';
	if (model && !same_model(model, desc.file)) {
		snprintf(why, cap, "the kernel module has '%s' loaded, not '%s'",
			 desc.file, model);
		return false;
	}
	return true;
}

int kernel_generate(const char *model_path, const char *prompt,
		    long n_predict, const struct llamux_sampler_params *sp,
		    bool echo)
{
	struct llamux_model_desc desc;
	struct llamux_stats st;
	struct llamux_params p = {
		.max_tokens = n_predict < 0 ? (1u << 20) : (uint32_t)n_predict,
		.temperature_milli = milli(sp->temp),
		.top_k = (uint32_t)sp->top_k,
		.top_p_milli = milli(sp->top_p),
		.min_p_milli = milli(sp->min_p),
		.repeat_penalty_milli = milli(sp->repeat_penalty),
		.greedy = sp->temp <= 0.0f,
		.seed = sp->seed,
	};
	char buf[4096];
	ssize_t n;
	int fd;

	if (n_predict == 0)
		return 0;
	fd = open(LLAMUX_DEVICE, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return open_error(errno);
	if (ioctl(fd, LLAMUX_IOC_GET_MODEL, &desc) < 0) {
		close(fd);
		return cli_fail("the kernel has no model loaded: echo load NAME > /proc/llamux/control");
	}
	if (model_path && !same_model(model_path, desc.file)) {
		const char *base = strrchr(model_path, '/');

		base = base ? base + 1 : model_path;
		close(fd);
		return cli_fail("the kernel has '%s' loaded, not '%s'; load it with: echo load %s > /proc/llamux/control",
				desc.file, base, base);
	}
	if (ioctl(fd, LLAMUX_IOC_SET_PARAMS, &p) < 0) {
		close(fd);
		return cli_fail("the kernel refused the sampling parameters: %s",
				strerror(errno));
	}
	if (echo) {
		fputs(prompt, stdout);
		fflush(stdout);
	}
	if (write(fd, prompt, strlen(prompt)) < 0) {
		int e = errno;

		close(fd);
		fputc('\n', stdout);
		if (e == E2BIG)
			return cli_fail("the prompt is too long for the kernel's context");
		return cli_fail("the kernel refused the prompt: %s", strerror(e));
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		fwrite(buf, 1, (size_t)n, stdout);
		fflush(stdout);
	}
	fputc('\n', stdout);
	fflush(stdout);
	if (n < 0) {
		int e = errno;

		close(fd);
		return cli_fail("generation in the kernel failed: %s", strerror(e));
	}
	if (ioctl(fd, LLAMUX_IOC_GET_STATS, &st) == 0) {
		double tp = st.prompt_ns * 1e-9, tg = st.generate_ns * 1e-9;

		if (st.stop_reason == 3)
			fprintf(stderr, "llamux: stopped: the kernel's context of %u tokens is full\n",
				st.n_ctx);
		fprintf(stderr, "llamux: kernel: prompt %u tokens in %.1f ms (%.1f t/s), generated %u tokens in %.1f ms (%.1f t/s)\n",
			st.prompt_tokens, tp * 1e3, st.prompt_tokens / (tp + 1e-12),
			st.generated_tokens, tg * 1e3,
			st.generated_tokens / (tg + 1e-12));
	}
	close(fd);
	return 0;
}
