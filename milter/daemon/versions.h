/* versions.h - what relay-milter -V prints */
#ifndef RM_VERSIONS_H
#define RM_VERSIONS_H

#include <stdio.h>

/* versions_print - our version, then each library as built with and as running */
void versions_print(FILE *fp);

#endif
