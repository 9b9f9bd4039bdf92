/* sd-journal.h - stands in for <systemd/sd-journal.h> where a layer may not use libsystemd */
#error \
    "layering: this layer of relay-milter may not include <systemd/sd-journal.h>; libsystemd belongs to a layer above it (see README, Layout)"
