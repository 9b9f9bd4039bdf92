/*
 * failmalloc.c - an LD_PRELOAD shim that fails one chosen allocation
 *
 * FAILMALLOC_N=N: the Nth call of malloc, calloc, realloc, strdup or
 * strndup (counted from 1, program start-up included) returns NULL with
 * errno ENOMEM; every other call is served by glibc. FAILMALLOC_FROM=1
 * fails the Nth and every later call (memory that never comes back).
 * FAILMALLOC_COUNT=FILE: at exit, write how many calls were counted, so a
 * sweep knows its range. FAILMALLOC_TRACE=FILE: when the call fails, write
 * its stack there (backtrace_symbols_fd allocates nothing), and if the
 * program then dies of a signal, a line "crash" and the stack of the
 * crash: a crash is traced to the code that crashed, which need not be the
 * code whose allocation failed.
 *
 * glibc's own calls (fopen, getline, asprintf) reach malloc through the
 * interposable symbol, so they are counted too; the real allocator is
 * reached through glibc's __libc_* entry points, which needs no dlsym.
 */
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *__libc_malloc(size_t size);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *p, size_t size);

void *malloc(size_t size);
void *calloc(size_t n, size_t size);
void *realloc(void *p, size_t size);
char *strdup(const char *s);
char *strndup(const char *s, size_t n);

static unsigned long fm_count;  /* calls so far */
static unsigned long fm_target; /* 0: fail nothing */
static int fm_from;             /* fail every call from fm_target on */
static int fm_ready;            /* the environment has been read */
static int fm_busy;             /* inside backtrace: do not count */
static const char *fm_count_file;
static const char *fm_trace_file;

/* fm_env_ulong - a decimal environment variable, 0 when unset or not a number */
static unsigned long fm_env_ulong(const char *name)
{
	const char *v = getenv(name);
	unsigned long n = 0;

	if (v == NULL)
		return 0;
	for (; *v >= '0' && *v <= '9'; v++)
		n = n * 10 + (unsigned long)(*v - '0');
	return *v == 0 ? n : 0;
}

/* fm_setup - read the environment once; getenv allocates nothing */
static void fm_setup(void)
{
	if (fm_ready)
		return;
	fm_ready = 1;
	fm_target = fm_env_ulong("FAILMALLOC_N");
	fm_from = fm_env_ulong("FAILMALLOC_FROM") != 0;
	fm_count_file = getenv("FAILMALLOC_COUNT");
	fm_trace_file = getenv("FAILMALLOC_TRACE");
}

/* fm_trace - the current stack, after a header line, to FAILMALLOC_TRACE */
static void fm_trace(const char *header)
{
	void *frames[64];
	int fd, n;

	if (fm_trace_file == NULL || fm_busy)
		return;
	if ((fd = open(fm_trace_file, O_WRONLY | O_CREAT | O_APPEND, 0600)) < 0)
		return;
	fm_busy = 1;
	n = write(fd, header, strlen(header)) < 0 ? 0 : backtrace(frames, 64);
	backtrace_symbols_fd(frames, n, fd);
	fm_busy = 0;
	close(fd);
}

/* fm_crashed - where the program died; the signal is then delivered again */
static void fm_crashed(int sig)
{
	fm_trace("crash\n");
	raise(sig);
}

/* fm_fail - count one call; true when this one is to fail */
static int fm_fail(void)
{
	unsigned long n;

	if (fm_busy)
		return 0;
	fm_setup();
	n = ++fm_count;
	if (fm_target == 0 || (fm_from ? n < fm_target : n != fm_target))
		return 0;
	if (n == fm_target)
		fm_trace("failed\n");
	errno = ENOMEM;
	return 1;
}

void *malloc(size_t size)
{
	return fm_fail() ? NULL : __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
	return fm_fail() ? NULL : __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
	return fm_fail() ? NULL : __libc_realloc(p, size);
}

char *strdup(const char *s)
{
	size_t len = strlen(s) + 1;
	char *p;

	if (fm_fail() || (p = __libc_malloc(len)) == NULL)
		return NULL;
	return memcpy(p, s, len);
}

char *strndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p;

	if (fm_fail() || (p = __libc_malloc(len + 1)) == NULL)
		return NULL;
	memcpy(p, s, len);
	p[len] = 0;
	return p;
}

/* fm_report - at exit, how many calls there were */
__attribute__((destructor)) static void fm_report(void)
{
	char buf[32];
	int fd, len;

	if (fm_count_file == NULL)
		return;
	if ((fd = open(fm_count_file, O_WRONLY | O_CREAT | O_TRUNC, 0600)) < 0)
		return;
	len = snprintf(buf, sizeof(buf), "%lu\n", fm_count);
	if (write(fd, buf, (size_t)len) != len)
		len = -1;
	close(fd);
}

/*
 * fm_init - load libgcc_s now, so that no later backtrace allocates, and
 * trace the signals of a crash (once: SA_RESETHAND, then the default)
 */
__attribute__((constructor)) static void fm_init(void)
{
	static const int sigs[] = {SIGSEGV, SIGBUS, SIGABRT, SIGFPE, SIGILL};
	struct sigaction sa;
	void *frame[1];

	fm_busy = 1;
	backtrace(frame, 1);
	fm_busy = 0;
	fm_setup();
	if (fm_trace_file == NULL)
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fm_crashed;
	sa.sa_flags = SA_RESETHAND | SA_NODEFER;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}
