/* metrics_http.h - the optional HTTP listener that serves /metrics */
#ifndef RM_METRICS_HTTP_H
#define RM_METRICS_HTTP_H

struct metrics_http;

/*
 * metrics_http_bind - open the listening socket for "ADDRESS:PORT" (see
 * metrics_listen_parse). Called before daemon_detach, so that a busy port
 * fails the start-up where the caller can see it. The fd, or -1 (logged).
 */
int metrics_http_bind(const char *spec);

/*
 * metrics_http_start - serve GET /metrics on fd from libmicrohttpd's own
 * thread. Call it after daemon_detach (threads do not survive fork) and
 * after the signals are blocked (its thread must not take them). NULL on
 * error, logged; the fd is closed then.
 */
struct metrics_http *metrics_http_start(int fd);

/* metrics_http_stop - stop listening and free */
void metrics_http_stop(struct metrics_http *h);

#endif
