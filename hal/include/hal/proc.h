/*
 * hal/proc.h — one child process that never blocks the loop: started
 * with `/bin/sh -c <command>`, its stdout a non-blocking pipe, its exit
 * collected by polling (no SIGCHLD handler, no wait that can block).
 *
 * The child gets stdin and stderr on /dev/null, default signal
 * dispositions and an empty signal mask (vigild ignores SIGPIPE), and its
 * own process group, so hal_proc_kill reaches what the shell started.
 *
 *   hal_proc_spawn -> (hal_proc_read)* -> hal_proc_poll == 1 -> closed
 *                  \-> hal_proc_kill -> hal_proc_poll == 1
 *   hal_proc_close at any point: kills and reaps what is left.
 */
#ifndef HAL_PROC_H
#define HAL_PROC_H

#include <stddef.h>

/* health.command is a config string: 127 bytes + NUL. */
#define HAL_PROC_CMD_MAX 128

struct hal_proc {
	int pid;    /* -1: no child (or already reaped) */
	int out_fd; /* read end of the child's stdout; -1 closed */
};

#define HAL_PROC_INIT { -1, -1 }

/*
 * Starts cmd under /bin/sh -c.
 * @retval 0 started (p->pid, p->out_fd set)
 * @retval -EALREADY p still has a child or a descriptor
 * @retval -EINVAL cmd empty or HAL_PROC_CMD_MAX bytes or longer
 * @retval -EAGAIN no process could be made (process limit, memory)
 * @retval -EIO the pipe or /dev/null could not be opened
 */
int hal_proc_spawn(struct hal_proc *p, const char *cmd);

/*
 * Reads what the child wrote to stdout so far, without waiting.
 * @retval >0 bytes read  @retval 0 end of output (all writers gone)
 * @retval -EAGAIN nothing yet  @retval -EBADF no pipe  @retval -EIO
 */
int hal_proc_read(struct hal_proc *p, void *buf, size_t cap);

/*
 * Whether the child has ended; reaps it when it has (p->pid -1 after).
 * *status: its exit code 0..255, or 256 + the signal that killed it.
 * @retval 1 ended  @retval 0 still running  @retval -EBADF no child
 */
int hal_proc_poll(struct hal_proc *p, int *status);

/* SIGKILL to the child's process group.  @retval 0  @retval -EBADF */
int hal_proc_kill(struct hal_proc *p);

/* Closes the pipe; a child still running is killed and reaped (SIGKILL
 * cannot be refused, so the wait is short).  p is HAL_PROC_INIT after. */
void hal_proc_close(struct hal_proc *p);

#endif
