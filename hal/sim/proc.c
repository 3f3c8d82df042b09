/*
 * hal/sim/proc.c — a scripted child process (hal_sim_proc_set): what
 * spawn returns, how long the child runs on the virtual clock, its exit
 * status and its stdout (all readable at once).  One child at a time, as
 * the agent uses it.  Start state: children exit 0 at once, no output.
 */
#include "hal/proc.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

#include "sim_int.h"

/* Outside the sim descriptor table (notify.c takes the first one past
 * it): never handed out by sim_fd_alloc. */
#define SIM_PROC_PID 4242
#define SIM_PROC_FD (HAL_SIM_FD_BASE + HAL_SIM_FDS_MAX + 1)

static struct hal_sim_proc sim_script;
static struct {
	int alive;       /* spawned, not reaped */
	int killed;
	uint64_t started;
	size_t out_off;  /* stdout bytes already read */
} sim_child;
static unsigned sim_spawns, sim_kills;
static char sim_last_cmd[HAL_PROC_CMD_MAX];

/* see sim_int.h */
void sim_proc_reset(void)
{
	memset(&sim_script, 0, sizeof sim_script);
	memset(&sim_child, 0, sizeof sim_child);
	sim_spawns = sim_kills = 0;
	sim_last_cmd[0] = '\0';
}

/* see hal/sim.h */
void hal_sim_proc_set(const struct hal_sim_proc *script)
{
	if (script)
		sim_script = *script;
	else
		memset(&sim_script, 0, sizeof sim_script);
}

/* see hal/sim.h */
unsigned hal_sim_proc_spawns(void)
{
	return sim_spawns;
}

/* see hal/sim.h */
unsigned hal_sim_proc_kills(void)
{
	return sim_kills;
}

/* see hal/sim.h */
const char *hal_sim_proc_last_cmd(void)
{
	return sim_last_cmd;
}

static int sim_child_ended(void)
{
	return sim_child.killed || (sim_script.run_ms != UINT32_MAX &&
				    sim_now >= sim_child.started +
						       sim_script.run_ms);
}

/* see hal/proc.h */
int hal_proc_spawn(struct hal_proc *p, const char *cmd)
{
	if (p->pid >= 0 || p->out_fd >= 0)
		return -EALREADY;
	if (!cmd || !cmd[0] || strlen(cmd) >= HAL_PROC_CMD_MAX)
		return -EINVAL;
	if (sim_script.spawn_result < 0)
		return sim_script.spawn_result;
	strcpy(sim_last_cmd, cmd); /* length checked */
	memset(&sim_child, 0, sizeof sim_child);
	sim_child.alive = 1;
	sim_child.started = sim_now;
	sim_spawns++;
	p->pid = SIM_PROC_PID;
	p->out_fd = SIM_PROC_FD;
	return 0;
}

/* see hal/proc.h */
int hal_proc_read(struct hal_proc *p, void *buf, size_t cap)
{
	const char *out = sim_script.output ? sim_script.output : "";
	size_t len = strlen(out), n;

	if (p->out_fd < 0)
		return -EBADF;
	if (sim_child.out_off < len && cap > 0) {
		n = len - sim_child.out_off < cap ? len - sim_child.out_off
						  : cap;
		memcpy(buf, out + sim_child.out_off, n);
		sim_child.out_off += n;
		return (int)n;
	}
	return sim_child_ended() ? 0 : -EAGAIN;
}

/* see hal/proc.h */
int hal_proc_poll(struct hal_proc *p, int *status)
{
	if (p->pid < 0 || !sim_child.alive)
		return -EBADF;
	if (!sim_child_ended())
		return 0;
	*status = sim_child.killed ? 256 + SIGKILL : sim_script.status;
	sim_child.alive = 0;
	p->pid = -1;
	return 1;
}

/* see hal/proc.h */
int hal_proc_kill(struct hal_proc *p)
{
	if (p->pid < 0 || !sim_child.alive)
		return -EBADF;
	if (!sim_child_ended()) {
		sim_child.killed = 1;
		sim_kills++;
	}
	return 0;
}

/* see hal/proc.h */
void hal_proc_close(struct hal_proc *p)
{
	if (p->pid >= 0)
		(void)hal_proc_kill(p);
	sim_child.alive = 0;
	p->pid = -1;
	p->out_fd = -1;
}
