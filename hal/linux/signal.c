/*
 * hal/linux/signal.c — TERM, INT and HUP as a readable descriptor (the
 * self-pipe trick); SIGPIPE ignored.
 *
 * The handler records the signal in an atomic bitmask and, the first time
 * a signal becomes pending, stamps it with an arrival number; then it
 * writes one byte to the pipe (errno saved: the handler may interrupt any
 * call).  hal_signal_next() takes the pending signal with the lowest stamp.
 * Invariant: while any bit is pending the pipe holds at least one byte,
 * so poll keeps reporting the descriptor readable: next() drains the pipe
 * first and writes a byte back when bits remain.  A signal arriving after
 * the drain writes its own byte.  The handlers run without SA_RESTART, so
 * a signal during hal_poll makes it return -EINTR.
 *
 * No threads exist in the agent: the only concurrency is the handler
 * interrupting the main flow, which lock-free C11 atomics cover.
 */
#include "hal/signal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <unistd.h>

/* indexed by HAL_SIG_*; 0 unused */
#define SIG_COUNT 4

static const int sig_os[SIG_COUNT] = { 0, SIGTERM, SIGINT, SIGHUP };

static int sig_pipe[2] = { -1, -1 };
static atomic_uint sig_pending;          /* bit n: HAL_SIG n pending */
static atomic_uint sig_clock;            /* last arrival number given */
static atomic_uint sig_stamp[SIG_COUNT]; /* arrival number of the bit */
static struct sigaction sig_saved[SIG_COUNT];
static struct sigaction sig_saved_pipe;

static void sig_handler(int os)
{
	int saved = errno;
	unsigned bit;

	for (int s = 1; s < SIG_COUNT; s++) {
		if (sig_os[s] != os)
			continue;
		bit = 1u << s;
		/* stamp before publishing the bit, so next() never sees a
		 * pending bit with a stale stamp */
		if (!(atomic_load(&sig_pending) & bit))
			atomic_store(&sig_stamp[s],
				     atomic_fetch_add(&sig_clock, 1) + 1);
		atomic_fetch_or(&sig_pending, bit);
	}
	if (sig_pipe[1] >= 0) {
		/* a full pipe already wakes the loop: ignore EAGAIN */
		ssize_t r = write(sig_pipe[1], "s", 1);
		(void)r;
	}
	errno = saved;
}

static int sig_pipe_open(void)
{
	if (pipe(sig_pipe) < 0)
		return errno == ENFILE ? -ENFILE : -EMFILE;
	for (int i = 0; i < 2; i++) {
		int fl = fcntl(sig_pipe[i], F_GETFL, 0);

		if (fl < 0 || fcntl(sig_pipe[i], F_SETFL, fl | O_NONBLOCK) < 0 ||
		    fcntl(sig_pipe[i], F_SETFD, FD_CLOEXEC) < 0)
			return -EMFILE;
	}
	return 0;
}

static void sig_pipe_close(void)
{
	for (int i = 0; i < 2; i++) {
		if (sig_pipe[i] >= 0)
			close(sig_pipe[i]);
		sig_pipe[i] = -1;
	}
}

/* see hal/signal.h */
int hal_signal_open(void)
{
	struct sigaction sa = { 0 };
	int ret = -EIO;

	if (sig_pipe[0] >= 0)
		return -EBUSY;
	ret = sig_pipe_open();
	if (ret < 0) {
		sig_pipe_close();
		return ret;
	}
	atomic_store(&sig_pending, 0);
	sa.sa_handler = sig_handler;
	sigfillset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: poll must see EINTR */
	for (int s = 1; s < SIG_COUNT; s++)
		sigaction(sig_os[s], &sa, &sig_saved[s]);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, &sig_saved_pipe);
	return sig_pipe[0];
}

/* Pending signal with the lowest arrival number, 0 if none. */
static int sig_oldest(unsigned pending)
{
	int best = 0;
	unsigned best_stamp = 0;

	for (int s = 1; s < SIG_COUNT; s++) {
		unsigned st = atomic_load(&sig_stamp[s]);

		if (!(pending & (1u << s)))
			continue;
		/* wrap-safe: stamps are compared by difference */
		if (best == 0 || (int)(st - best_stamp) < 0) {
			best = s;
			best_stamp = st;
		}
	}
	return best;
}

/* see hal/signal.h */
int hal_signal_next(void)
{
	char junk[16];
	int s;

	if (sig_pipe[0] < 0)
		return 0;
	while (read(sig_pipe[0], junk, sizeof junk) > 0)
		continue;
	s = sig_oldest(atomic_load(&sig_pending));
	if (s == 0)
		return 0;
	atomic_fetch_and(&sig_pending, ~(1u << s));
	if (atomic_load(&sig_pending) != 0) {
		/* keep the descriptor readable for the rest (see top) */
		ssize_t r = write(sig_pipe[1], "s", 1);
		(void)r; /* a full pipe is readable anyway */
	}
	return s;
}

/* see hal/signal.h */
void hal_signal_close(void)
{
	if (sig_pipe[0] < 0)
		return;
	for (int s = 1; s < SIG_COUNT; s++)
		sigaction(sig_os[s], &sig_saved[s], NULL);
	sigaction(SIGPIPE, &sig_saved_pipe, NULL);
	sig_pipe_close();
	atomic_store(&sig_pending, 0);
}
