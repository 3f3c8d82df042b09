/*
 * hal/linux/netif_text.c — the words of hal/netif.h: the kernel's
 * operstate words and the rule for a valid interface name.  Pure (no
 * system calls), so hal/sim links this file too.
 */
#include "hal/netif.h"

#include <string.h>

static const char *const netif_words[] = {
	[HAL_NETIF_OPER_UNKNOWN] = "unknown",
	[HAL_NETIF_OPER_NOTPRESENT] = "notpresent",
	[HAL_NETIF_OPER_DOWN] = "down",
	[HAL_NETIF_OPER_LOWERLAYERDOWN] = "lowerlayerdown",
	[HAL_NETIF_OPER_TESTING] = "testing",
	[HAL_NETIF_OPER_DORMANT] = "dormant",
	[HAL_NETIF_OPER_UP] = "up",
};
#define NETIF_WORDS (sizeof netif_words / sizeof netif_words[0])

/* see hal/netif.h */
const char *hal_netif_oper_name(enum hal_netif_oper oper)
{
	return (unsigned)oper < NETIF_WORDS ? netif_words[oper] : "unknown";
}

/* see hal/netif.h */
enum hal_netif_oper hal_netif_oper_parse(const char *word)
{
	for (size_t i = 0; i < NETIF_WORDS; i++)
		if (strcmp(word, netif_words[i]) == 0)
			return (enum hal_netif_oper)i;
	return HAL_NETIF_OPER_UNKNOWN; /* a word of a newer kernel */
}

/* see hal/netif.h */
int hal_netif_name_valid(const char *name)
{
	size_t n;

	if (!name)
		return 0;
	n = strlen(name);
	if (n == 0 || n >= HAL_NETIF_NAME_MAX || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return 0;
	return strpbrk(name, "/ \t\n\r\v\f") == NULL;
}
