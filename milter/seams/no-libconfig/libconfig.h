/* libconfig.h - stands in for <libconfig.h> where a layer may not use libconfig */
#error \
    "layering: this layer of relay-milter may not include <libconfig.h>; libconfig belongs to a layer above it (see README, Layout)"
