/* sd-daemon.h - stands in for <systemd/sd-daemon.h> where a layer may not use libsystemd */
#error \
    "layering: this layer of relay-milter may not include <systemd/sd-daemon.h>; libsystemd belongs to a layer above it (see README, Layout)"
