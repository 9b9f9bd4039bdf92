/* syslog.h - stands in for <syslog.h> where a layer may not use syslog */
#error \
    "layering: this layer of relay-milter may not include <syslog.h>; syslog belongs to a layer above it (see README, Layout)"
