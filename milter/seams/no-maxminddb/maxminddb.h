/* maxminddb.h - stands in for <maxminddb.h> where a layer may not use libmaxminddb */
#error \
    "layering: this layer of relay-milter may not include <maxminddb.h>; libmaxminddb belongs to a layer above it (see README, Layout)"
