/* notify.c - tell systemd (Type=notify) when the milter is ready, reloading, stopping */
#include <systemd/sd-daemon.h>
#include <time.h>

#include "notify.h"

/*
 * Without systemd (no NOTIFY_SOCKET) sd_notify does nothing: the same
 * binary runs under any service manager or none.
 */

/* notify_ready - READY=1 */
void notify_ready(void)
{
	sd_notify(0, "READY=1\nSTATUS=Accepting milter connections");
}

/* notify_reloading - RELOADING=1 */
void notify_reloading(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	sd_notifyf(0, "RELOADING=1\nSTATUS=Reloading the configuration\nMONOTONIC_USEC=%llu",
	    (unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
}

/* notify_stopping - STOPPING=1 */
void notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}
