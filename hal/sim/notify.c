/*
 * hal/sim/notify.c — the notification socket of hal/notify.h, recorded:
 * the environment is what the test set (hal_sim_notify_env_set; read
 * once, then cleared, like the Linux side unsets the variables), and
 * every message sent lands in a queue of HAL_SIM_NOTIFY_MAX that the test
 * takes from (hal_sim_notify_take).  A full queue refuses with -EAGAIN,
 * like a full socket buffer.  Start state: no environment, no messages.
 */
#include "hal/notify.h"

#include <errno.h>
#include <string.h>

#include "sim_int.h"

/* Outside the sim descriptor table: never handed out by sim_fd_alloc. */
#define SIM_NOTIFY_FD (HAL_SIM_FD_BASE + HAL_SIM_FDS_MAX)

static struct hal_notify_env sim_env;
static char sim_msgs[HAL_SIM_NOTIFY_MAX][HAL_NOTIFY_MSG_MAX];
static unsigned sim_head, sim_count, sim_total;

static int sim_notify_path_ok(const char *path)
{
	size_t n = path ? strlen(path) : 0;

	return n >= 2 && n < HAL_NOTIFY_PATH_MAX &&
	       (path[0] == '/' || path[0] == '@');
}

/* see sim_int.h */
void sim_notify_reset(void)
{
	memset(&sim_env, 0, sizeof sim_env);
	sim_head = sim_count = sim_total = 0;
}

/* see hal/sim.h */
void hal_sim_notify_env_set(const char *socket, uint64_t watchdog_usec)
{
	memset(&sim_env, 0, sizeof sim_env);
	if (socket && strlen(socket) < sizeof sim_env.socket)
		strcpy(sim_env.socket, socket); /* length checked */
	sim_env.watchdog_usec = watchdog_usec;
}

/* see hal/sim.h */
int hal_sim_notify_take(char *buf, size_t cap)
{
	size_t len;

	if (sim_count == 0)
		return -EAGAIN;
	len = strlen(sim_msgs[sim_head]);
	if (cap > 0) {
		size_t n = len < cap - 1 ? len : cap - 1;

		memcpy(buf, sim_msgs[sim_head], n);
		buf[n] = '\0';
	}
	sim_head = (sim_head + 1) % HAL_SIM_NOTIFY_MAX;
	sim_count--;
	return (int)len;
}

/* see hal/sim.h */
unsigned hal_sim_notify_sent(void)
{
	return sim_total;
}

/* see hal/notify.h */
int hal_notify_env(struct hal_notify_env *env)
{
	int ret = 0;

	*env = sim_env;
	if (env->socket[0] && !sim_notify_path_ok(env->socket)) {
		env->socket[0] = '\0';
		ret = -EINVAL;
	}
	memset(&sim_env, 0, sizeof sim_env);
	return ret;
}

/* see hal/notify.h */
int hal_notify_open(struct hal_notify *n, const char *path)
{
	if (n->fd >= 0)
		return -EALREADY;
	if (!sim_notify_path_ok(path))
		return -EINVAL;
	n->addr_len = (unsigned)strlen(path);
	memcpy(n->addr, path, n->addr_len + 1);
	n->fd = SIM_NOTIFY_FD;
	return 0;
}

/* see hal/notify.h */
int hal_notify_send(struct hal_notify *n, const char *msg)
{
	size_t len = msg ? strlen(msg) : 0;

	if (n->fd < 0)
		return -EBADF;
	if (len >= HAL_NOTIFY_MSG_MAX)
		return -EMSGSIZE;
	if (sim_count == HAL_SIM_NOTIFY_MAX)
		return -EAGAIN;
	memcpy(sim_msgs[(sim_head + sim_count) % HAL_SIM_NOTIFY_MAX], msg,
	       len + 1);
	sim_count++;
	sim_total++;
	return 0;
}

/* see hal/notify.h */
void hal_notify_close(struct hal_notify *n)
{
	n->fd = -1;
	n->addr_len = 0;
	memset(n->addr, 0, sizeof n->addr);
}
