/* hiredis.h - stands in for <hiredis/hiredis.h> where a layer may not use hiredis */
#error \
    "layering: this layer of relay-milter may not include <hiredis/hiredis.h>; hiredis belongs to a layer above it (see README, Layout)"
