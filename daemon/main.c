// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * llamuxd: the Llamux service. Reads the configuration, starts the engine
 * (which loads the model while /health says 503), the HTTP listeners and
 * the D-Bus interface, tells systemd it is ready, then waits for signals:
 * SIGHUP re-reads the configuration, SIGTERM/SIGINT stop taking requests,
 * let running ones finish for up to the grace period, and exit 0.
 */
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "llamuxd.h"

static bool stopping;

bool lxd_stopping(void)
{
	return __atomic_load_n(&stopping, __ATOMIC_ACQUIRE);
}

/* SIGHUP: new limits, key, log level; a new model is loaded. */
static void reload(void)
{
	const struct lxd_config *cur;
	struct lxd_config c;
	char *old_model = NULL, *path = NULL;
	bool restart_needed = false;

	sd_notify(0, "RELOADING=1\nSTATUS=Reloading the configuration");
	cur = lxd_config_get();
	if (!lxd_config_reload(cur, &c)) {
		lxd_config_put();
		lxd_err("reload: the configuration has errors; keeping the old one");
		sd_notify(0, "READY=1\nSTATUS=Serving (reload failed)");
		return;
	}
	old_model = strdup(cur->model);
	if (c.port != cur->port || strcmp(c.host, cur->host) ||
	    strcmp(c.socket_path, cur->socket_path) ||
	    c.parallel != cur->parallel || c.ctx_size != cur->ctx_size ||
	    c.threads != cur->threads || c.dbus != cur->dbus)
		restart_needed = true;
	lxd_config_put();
	if (restart_needed)
		lxd_warn("reload: listeners, parallel, ctx-size, threads and dbus change only with a restart");
	if (old_model && strcmp(old_model, c.model))
		path = lxd_resolve_model(&c, c.model);
	lxd_engine_reconfigure(&c);
	lxd_config_set(&c);
	if (path) {
		lxd_notice("reload: switching to model %s", path);
		lxd_engine_load(path);
	}
	free(path);
	free(old_model);
	lxd_notice("configuration reloaded");
	sd_notify(0, "READY=1\nSTATUS=Serving");
}

int main(int argc, char **argv)
{
	struct lxd_config c;
	sigset_t set;
	char *model;
	long grace;
	int code, sig;
	bool dbus;

	/*
	 * Connection threads come and go; a few malloc arenas keep the
	 * memory of a busy service flat instead of one arena per thread.
	 */
	mallopt(M_ARENA_MAX, 2);
	lxd_log_init();
	if (!lxd_config_init(&c, argc, argv, &code))
		return code;
	if (code == 0 && !c.model)
		return 0;	/* --help, --version */
	lxd_log_set_level(c.log_level);

	/* Every thread inherits the mask; this one takes the signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	model = lxd_resolve_model(&c, c.model);
	dbus = c.dbus;
	lxd_config_set(&c);
	{
		const struct lxd_config *cur = lxd_config_get();
		bool ok = lxd_engine_start(cur, model) && lxd_http_start(cur);

		lxd_config_put();
		if (!ok) {
			free(model);
			lxd_engine_stop(0);
			return 1;
		}
		if (dbus) {
			cur = lxd_config_get();
			lxd_dbus_start(cur);
			lxd_config_put();
		}
	}
	free(model);
	sd_notifyf(0, "READY=1\nSTATUS=Serving\nMAINPID=%lu",
		   (unsigned long)getpid());

	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		if (sig == SIGHUP) {
			reload();
			continue;
		}
		break;
	}
	__atomic_store_n(&stopping, true, __ATOMIC_RELEASE);
	sd_notify(0, "STOPPING=1\nSTATUS=Finishing running requests");
	{
		const struct lxd_config *cur = lxd_config_get();

		grace = cur->grace_period;
		lxd_config_put();
	}
	lxd_notice("signal %d: finishing %u requests (grace period %ld s)",
		   sig, lxd_engine_pending(), grace);
	lxd_http_quiesce();
	lxd_engine_stop((uint64_t)grace * 1000000000ull);
	lxd_dbus_stop();
	lxd_http_stop();
	lxd_notice("stopped");
	{
		struct lxd_config empty;

		memset(&empty, 0, sizeof(empty));
		lxd_config_set(&empty);
	}
	return 0;
}
