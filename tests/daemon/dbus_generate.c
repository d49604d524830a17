// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * A D-Bus client of llamuxd for tests/daemon/test_dbus.sh: calls
 * org.llamux.Llamux1.Generate on the session bus and stays connected,
 * printing each Token signal of its request as "TOKEN <text>" and the end as
 * "FINISHED <reason> <prompt_tokens> <completion_tokens>"; sampling is
 * greedy (temperature 0). With
 * --cancel-after N it calls Cancel(id) after N tokens.
 *   dbus_generate PROMPT MAX_TOKENS [--cancel-after N]
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#define NAME "org.llamux.Llamux1"
#define PATH "/org/llamux/Llamux1"

static uint64_t want_id;
static int n_tokens, cancel_after = -1;
static bool finished, cancel_sent;

static int on_token(sd_bus_message *m, void *ud, sd_bus_error *err)
{
	const char *text;
	uint64_t id;

	(void)ud;
	(void)err;
	if (sd_bus_message_read(m, "ts", &id, &text) < 0 || id != want_id)
		return 0;
	printf("TOKEN %s\n", text);
	fflush(stdout);
	n_tokens++;
	return 0;
}

static int on_finished(sd_bus_message *m, void *ud, sd_bus_error *err)
{
	const char *reason;
	uint32_t p, g;
	uint64_t id;

	(void)ud;
	(void)err;
	if (sd_bus_message_read(m, "tsuu", &id, &reason, &p, &g) < 0 ||
	    id != want_id)
		return 0;
	printf("FINISHED %s %u %u\n", reason, p, g);
	finished = true;
	return 0;
}

int main(int argc, char **argv)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	sd_bus *bus = NULL;
	int r;

	if (argc != 3 && !(argc == 5 && !strcmp(argv[3], "--cancel-after"))) {
		fprintf(stderr, "usage: %s PROMPT MAX_TOKENS [--cancel-after N]\n",
			argv[0]);
		return 2;
	}
	if (argc == 5)
		cancel_after = atoi(argv[4]);
	r = sd_bus_open_user(&bus);
	if (r < 0) {
		fprintf(stderr, "cannot connect to the session bus: %s\n",
			strerror(-r));
		return 1;
	}
	/* Subscribe before calling, so no signal is missed. */
	if (sd_bus_match_signal(bus, NULL, NAME, PATH, NAME, "Token", on_token,
				NULL) < 0 ||
	    sd_bus_match_signal(bus, NULL, NAME, PATH, NAME, "Finished",
				on_finished, NULL) < 0)
		return 1;
	r = sd_bus_call_method(bus, NAME, PATH, NAME, "Generate", &err, &reply,
			       "sa{sv}", argv[1], 2, "max_tokens", "u",
			       (uint32_t)atoi(argv[2]), "temperature", "d", 0.0);
	if (r < 0) {
		fprintf(stderr, "Generate failed: %s\n", err.message);
		return 1;
	}
	sd_bus_message_read(reply, "t", &want_id);
	sd_bus_message_unref(reply);
	printf("ID %llu\n", (unsigned long long)want_id);
	fflush(stdout);
	while (!finished) {
		r = sd_bus_process(bus, NULL);
		if (r < 0)
			return 1;
		if (cancel_after >= 0 && n_tokens >= cancel_after &&
		    !cancel_sent) {
			cancel_sent = true;
			r = sd_bus_call_method(bus, NAME, PATH, NAME, "Cancel",
					       &err, NULL, "t", want_id);
			if (r < 0)
				fprintf(stderr, "Cancel failed: %s\n", err.message);
		}
		if (r == 0 && sd_bus_wait(bus, 30 * 1000000ull) <= 0) {
			fprintf(stderr, "no signal for 30 s\n");
			return 1;
		}
	}
	sd_bus_error_free(&err);
	sd_bus_flush_close_unref(bus);
	return 0;
}
