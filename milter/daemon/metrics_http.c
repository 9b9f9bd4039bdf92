/* metrics_http.c - the optional HTTP listener that serves /metrics */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "hostport.h"
#include "log.h"
#include "metrics.h"
#include "metrics_http.h"

/*
 * A scrape takes milliseconds. Idle connections are closed after a few
 * seconds and there is room for many, so a handful of clients that
 * connect and say nothing (16 were enough before) cannot lock the
 * scrapes out; the backlog holds a burst while the limit is reached.
 */
#define METRICS_HTTP_CONNECTIONS  512
#define METRICS_HTTP_IDLE_SECONDS 3
#define METRICS_HTTP_BACKLOG      128

struct metrics_http {
	struct MHD_Daemon *mhd;
};

/* reply - one small response with a content type */
static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, char *body, size_t len,
    enum MHD_ResponseMemoryMode mode, const char *type)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result rc;

	if (r == NULL) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	rc = MHD_queue_response(conn, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* serve - GET /metrics answers the counters; everything else is refused */
static enum MHD_Result serve(void *cls, struct MHD_Connection *conn, const char *url,
    const char *method, const char *version, const char *upload_data, size_t *upload_size,
    void **con_cls)
{
	static char not_found[] = "not found: try /metrics\n";
	static char not_allowed[] = "only GET and HEAD\n";
	size_t len;
	char *text;

	(void)cls;
	(void)version;
	(void)upload_data;
	(void)con_cls;
	if (*upload_size != 0)
		return MHD_NO; /* no request bodies here */
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, not_allowed, strlen(not_allowed),
		    MHD_RESPMEM_PERSISTENT, "text/plain");
	if (strcmp(url, "/metrics") != 0)
		return reply(conn, MHD_HTTP_NOT_FOUND, not_found, strlen(not_found),
		    MHD_RESPMEM_PERSISTENT, "text/plain");
	if ((text = metrics_format(&len)) == NULL)
		return MHD_NO;
	return reply(conn, MHD_HTTP_OK, text, len, MHD_RESPMEM_MUST_FREE,
	    "text/plain; version=0.0.4; charset=utf-8");
}

/* metrics_http_bind - socket, bind and listen, logging where */
int metrics_http_bind(const char *spec)
{
	struct hostport_addr addr;
	struct sockaddr_storage got;
	socklen_t len = sizeof(got);
	char host[INET6_ADDRSTRLEN];
	const char *why;
	int fd, on = 1;

	if (hostport_listen(spec, &addr, &why) < 0) {
		log_err("metrics: \"%s\": %s", spec, why);
		return -1;
	}
	if ((fd = socket(addr.ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) < 0 ||
	    bind(fd, (struct sockaddr *)&addr.ss, addr.len) < 0 ||
	    listen(fd, METRICS_HTTP_BACKLOG) < 0 ||
	    getsockname(fd, (struct sockaddr *)&got, &len) < 0) {
		log_err("metrics: cannot listen on %s: %s", spec, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (addr.v6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&got)->sin6_addr, host, sizeof(host));
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)&got)->sin_addr, host, sizeof(host));
	log_info("metrics: listening on %s%s%s:%u", addr.v6 ? "[" : "", host, addr.v6 ? "]" : "",
	    ntohs(addr.v6 ? ((struct sockaddr_in6 *)&got)->sin6_port :
			    ((struct sockaddr_in *)&got)->sin_port));
	return fd;
}

/* metrics_http_start - serve on fd from libmicrohttpd's thread */
struct metrics_http *metrics_http_start(int fd)
{
	struct metrics_http *h = calloc(1, sizeof(*h));

	if (h == NULL) {
		close(fd);
		return NULL;
	}
	/* poll(2), not select(2): connections may number more than FD_SETSIZE allows */
	h->mhd = MHD_start_daemon(MHD_USE_POLL_INTERNAL_THREAD, 0, NULL, NULL, serve, NULL,
	    MHD_OPTION_LISTEN_SOCKET, (MHD_socket)fd, MHD_OPTION_CONNECTION_LIMIT,
	    (unsigned)METRICS_HTTP_CONNECTIONS, MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)METRICS_HTTP_IDLE_SECONDS, MHD_OPTION_END);
	if (h->mhd == NULL) {
		log_err("metrics: cannot start the HTTP listener");
		close(fd);
		free(h);
		return NULL;
	}
	return h;
}

/* metrics_http_stop - stop listening and free */
void metrics_http_stop(struct metrics_http *h)
{
	if (h == NULL)
		return;
	MHD_stop_daemon(h->mhd);
	free(h);
}
