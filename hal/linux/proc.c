/*
 * hal/linux/proc.c — see hal/proc.h.  posix_spawn rather than fork: no
 * copy of the agent's address space (vfork-like on glibc and musl), and
 * the file actions and attributes state the child's setup in one place.
 */
#include "hal/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* The child's file actions and attributes; spawn_setup frees what it
 * took on failure. */
static int proc_setup(posix_spawn_file_actions_t *fa, posix_spawnattr_t *at,
		      int out_w)
{
	sigset_t none, deflt;

	if (posix_spawn_file_actions_init(fa) != 0)
		return -EAGAIN;
	if (posix_spawnattr_init(at) != 0) {
		posix_spawn_file_actions_destroy(fa);
		return -EAGAIN;
	}
	sigemptyset(&none);
	sigemptyset(&deflt);
	sigaddset(&deflt, SIGPIPE); /* ignored by vigild, default for sh */
	sigaddset(&deflt, SIGTERM);
	sigaddset(&deflt, SIGINT);
	sigaddset(&deflt, SIGHUP);
	if (posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0) ||
	    posix_spawn_file_actions_adddup2(fa, out_w, 1) ||
	    posix_spawn_file_actions_addopen(fa, 2, "/dev/null", O_WRONLY, 0) ||
	    posix_spawnattr_setflags(at, POSIX_SPAWN_SETPGROUP |
				     POSIX_SPAWN_SETSIGMASK |
				     POSIX_SPAWN_SETSIGDEF) ||
	    posix_spawnattr_setpgroup(at, 0) ||
	    posix_spawnattr_setsigmask(at, &none) ||
	    posix_spawnattr_setsigdefault(at, &deflt)) {
		posix_spawnattr_destroy(at);
		posix_spawn_file_actions_destroy(fa);
		return -EAGAIN;
	}
	return 0;
}

/* see hal/proc.h */
int hal_proc_spawn(struct hal_proc *p, const char *cmd)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	char *argv[4];
	int fds[2], ret;
	pid_t pid;

	if (p->pid >= 0 || p->out_fd >= 0)
		return -EALREADY;
	if (!cmd || !cmd[0] || strlen(cmd) >= HAL_PROC_CMD_MAX)
		return -EINVAL;
	if (pipe(fds) < 0)
		return -EIO;
	/* both ends close-on-exec: the dup2 onto 1 in the child clears it */
	if (fcntl(fds[0], F_SETFD, FD_CLOEXEC) < 0 ||
	    fcntl(fds[1], F_SETFD, FD_CLOEXEC) < 0 ||
	    fcntl(fds[0], F_SETFL, O_NONBLOCK) < 0) {
		ret = -EIO;
		goto fail;
	}
	ret = proc_setup(&fa, &at, fds[1]);
	if (ret < 0)
		goto fail;
	argv[0] = "sh";
	argv[1] = "-c";
	argv[2] = (char *)cmd; /* posix_spawn's prototype; not written */
	argv[3] = NULL;
	ret = posix_spawn(&pid, "/bin/sh", &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	if (ret != 0) {
		ret = ret == ENOENT || ret == EACCES ? -EIO : -EAGAIN;
		goto fail;
	}
	close(fds[1]);
	p->pid = (int)pid;
	p->out_fd = fds[0];
	return 0;
fail:
	close(fds[0]);
	close(fds[1]);
	return ret;
}

/* see hal/proc.h */
int hal_proc_read(struct hal_proc *p, void *buf, size_t cap)
{
	ssize_t r;

	if (p->out_fd < 0)
		return -EBADF;
	do
		r = read(p->out_fd, buf, cap);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return errno == EAGAIN ? -EAGAIN : -EIO;
	return (int)r;
}

/* see hal/proc.h */
int hal_proc_poll(struct hal_proc *p, int *status)
{
	int st = 0;
	pid_t r;

	if (p->pid < 0)
		return -EBADF;
	do
		r = waitpid((pid_t)p->pid, &st, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return 0;
	p->pid = -1;
	if (r < 0) {
		*status = 256 + SIGKILL; /* reaped elsewhere: cannot know */
		return 1;
	}
	*status = WIFEXITED(st) ? WEXITSTATUS(st)
	        : WIFSIGNALED(st) ? 256 + WTERMSIG(st) : 256;
	return 1;
}

/* see hal/proc.h */
int hal_proc_kill(struct hal_proc *p)
{
	if (p->pid <= 0)
		return -EBADF;
	/* the group first (what sh started); the child itself if the group
	 * is already gone */
	if (kill(-(pid_t)p->pid, SIGKILL) < 0)
		(void)kill((pid_t)p->pid, SIGKILL);
	return 0;
}

/* see hal/proc.h */
void hal_proc_close(struct hal_proc *p)
{
	if (p->pid > 0) {
		(void)hal_proc_kill(p);
		while (waitpid((pid_t)p->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (p->out_fd >= 0)
		close(p->out_fd);
	p->pid = -1;
	p->out_fd = -1;
}
