/*
 * hal/sim/netif.c — up to HAL_SIM_NETIF_MAX interfaces set by the test
 * (hal_sim_netif_set).  Start state: "lo" alone, as the kernel shows it
 * (operstate unknown, IFF_UP, carrier 1: up).  The verdict `up` follows
 * the same table as Linux (hal/netif.h).
 */
#include "hal/netif.h"

#include <errno.h>
#include <string.h>

#include "sim_int.h"

struct sim_netif {
	int used;
	char name[HAL_NETIF_NAME_MAX];
	struct hal_netif st;
};

static struct sim_netif sim_ifs[HAL_SIM_NETIF_MAX];

static struct sim_netif *sim_netif_find(const char *name)
{
	for (int i = 0; i < HAL_SIM_NETIF_MAX; i++)
		if (sim_ifs[i].used && strcmp(sim_ifs[i].name, name) == 0)
			return &sim_ifs[i];
	return NULL;
}

/* see sim_int.h */
void sim_netif_reset(void)
{
	const struct hal_netif lo = { HAL_NETIF_OPER_UNKNOWN, 1, 1, 1 };

	memset(sim_ifs, 0, sizeof sim_ifs);
	hal_sim_netif_set("lo", &lo);
}

/* see hal/sim.h */
void hal_sim_netif_set(const char *name, const struct hal_netif *st)
{
	struct sim_netif *s;

	if (!hal_netif_name_valid(name))
		return;
	s = sim_netif_find(name);
	if (!st) {
		if (s)
			s->used = 0;
		return;
	}
	for (int i = 0; !s && i < HAL_SIM_NETIF_MAX; i++)
		if (!sim_ifs[i].used)
			s = &sim_ifs[i];
	if (!s)
		return; /* more interfaces than a board has: ignored */
	s->used = 1;
	strcpy(s->name, name); /* length checked by sim_netif_name_ok */
	s->st = *st;
	s->st.up = st->oper == HAL_NETIF_OPER_UP ||
		   (st->oper == HAL_NETIF_OPER_UNKNOWN && st->admin_up &&
		    st->carrier == 1);
}

/* see hal/netif.h */
int hal_netif_read(const char *name, struct hal_netif *st)
{
	const struct sim_netif *s;

	if (!st || !hal_netif_name_valid(name))
		return -EINVAL;
	s = sim_netif_find(name);
	if (!s)
		return -ENOENT;
	*st = s->st;
	return 0;
}
