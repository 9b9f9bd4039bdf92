/* metrics_http.c - the optional HTTP listener that serves /metrics */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "metrics.h"
#include "metrics_http.h"

struct metrics_http {
	struct MHD_Daemon *mhd;
};

/* reply - one small response with a content type */
static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, char *body,
    size_t len, enum MHD_ResponseMemoryMode mode, const char *type)
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

/* bound_port - the port actually bound (differs from the asked one for port 0) */
static unsigned bound_port(struct MHD_Daemon *mhd)
{
	const union MHD_DaemonInfo *info = MHD_get_daemon_info(mhd, MHD_DAEMON_INFO_BIND_PORT);

	return info ? info->port : 0;
}

/* metrics_http_start - listen and serve from libmicrohttpd's thread */
struct metrics_http *metrics_http_start(const char *listen)
{
	struct metrics_listen addr;
	struct metrics_http *h;
	const char *why;
	char host[INET6_ADDRSTRLEN];

	if (metrics_listen_parse(listen, &addr, &why) < 0) {
		log_err("metrics: \"%s\": %s", listen, why);
		return NULL;
	}
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return NULL;
	h->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | (addr.v6 ? MHD_USE_IPv6 : 0),
	    0, NULL, NULL, serve, NULL,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr.ss,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)16,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)10,
	    MHD_OPTION_END);
	if (h->mhd == NULL) {
		log_err("metrics: cannot listen on %s", listen);
		free(h);
		return NULL;
	}
	if (addr.v6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&addr.ss)->sin6_addr, host, sizeof(host));
	else
		inet_ntop(AF_INET, &((struct sockaddr_in *)&addr.ss)->sin_addr, host, sizeof(host));
	log_info("metrics: listening on %s%s%s:%u", addr.v6 ? "[" : "", host, addr.v6 ? "]" : "",
	    bound_port(h->mhd));
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
