/* mfapi.h - stands in for <libmilter/mfapi.h> where a layer may not use libmilter */
#error \
    "layering: this layer of relay-milter may not include <libmilter/mfapi.h>; libmilter belongs to a layer above it (see README, Layout)"
