/* microhttpd.h - stands in for <microhttpd.h> where a layer may not use libmicrohttpd */
#error \
    "layering: this layer of relay-milter may not include <microhttpd.h>; libmicrohttpd belongs to a layer above it (see README, Layout)"
