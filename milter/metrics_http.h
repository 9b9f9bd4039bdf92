/* metrics_http.h - the optional HTTP listener that serves /metrics */
#ifndef RM_METRICS_HTTP_H
#define RM_METRICS_HTTP_H

struct metrics_http;

/*
 * metrics_http_start - listen on "ADDRESS:PORT" (see metrics_listen_parse)
 * and serve GET /metrics from libmicrohttpd's own thread. Call it after
 * daemon_detach (threads do not survive fork) and after the signals are
 * blocked (its thread must not take them). NULL on error, logged.
 */
struct metrics_http *metrics_http_start(const char *listen);

/* metrics_http_stop - stop listening and free */
void metrics_http_stop(struct metrics_http *h);

#endif
