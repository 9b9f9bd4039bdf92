/* unit.h - shared main() for the Check unit tests: TAP out, exit status */
#ifndef RM_UNIT_H
#define RM_UNIT_H

#include <check.h>
#include <stdlib.h>

/* UNIT_MAIN - run one suite; with CK_TAP_LOG_FILE_NAME=- every case is a TAP line */
#define UNIT_MAIN(make_suite)                                \
	int main(void)                                       \
	{                                                    \
		SRunner *sr = srunner_create(make_suite());  \
		int failed;                                  \
                                                             \
		srunner_run_all(sr, CK_ENV);                 \
		failed = srunner_ntests_failed(sr);          \
		srunner_free(sr);                            \
		return failed ? EXIT_FAILURE : EXIT_SUCCESS; \
	}

#endif
