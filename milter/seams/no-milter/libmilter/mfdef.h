/* mfdef.h - stands in for <libmilter/mfdef.h> where a layer may not use libmilter */
#error \
    "layering: this layer of relay-milter may not include <libmilter/mfdef.h>; libmilter belongs to a layer above it (see README, Layout)"
