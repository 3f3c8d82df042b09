/*
 * hal/netif.h — whether a network interface is up (the health check
 * `network`).
 *
 * Linux reads /sys/class/net/<name>/{operstate,flags,carrier}.  The
 * kernel's operstate (RFC 2863) is the primary answer; many drivers never
 * set it and report "unknown" (lo, tun, some USB and Wi-Fi drivers), so
 * for "unknown" the interface counts as up when it is administratively up
 * (IFF_UP in flags) and has a carrier (carrier reads 1).  The sysfs flags
 * are the device's own flags: IFF_RUNNING and IFF_LOWER_UP never appear in
 * them, which is why the carrier file is read instead.
 *
 *   operstate        IFF_UP   carrier   up
 *   up               any      any       1
 *   unknown          set      1         1
 *   unknown          other cases        0
 *   down, dormant, lowerlayerdown, notpresent, testing      0
 */
#ifndef HAL_NETIF_H
#define HAL_NETIF_H

/* IFNAMSIZ: 15 bytes + NUL. */
#define HAL_NETIF_NAME_MAX 16

enum hal_netif_oper {
	HAL_NETIF_OPER_UNKNOWN,
	HAL_NETIF_OPER_NOTPRESENT,
	HAL_NETIF_OPER_DOWN,
	HAL_NETIF_OPER_LOWERLAYERDOWN,
	HAL_NETIF_OPER_TESTING,
	HAL_NETIF_OPER_DORMANT,
	HAL_NETIF_OPER_UP,
};

struct hal_netif {
	enum hal_netif_oper oper; /* the kernel's operstate */
	int admin_up;             /* IFF_UP: configured up */
	int carrier;              /* 1 link detected, 0 none, -1 unknown
				   * (the kernel refuses to say while the
				   * interface is administratively down) */
	int up;                   /* the verdict of the table above */
};

/*
 * Reads the state of interface name.
 * @retval 0 *st filled
 * @retval -EINVAL name empty, HAL_NETIF_NAME_MAX bytes or longer, ".",
 *         "..", or containing '/' or whitespace (not an interface name)
 * @retval -ENOENT no such interface
 * @retval -EBADMSG the kernel's files held something unexpected
 * @retval -EIO read failed
 */
int hal_netif_read(const char *name, struct hal_netif *st);

/* "up", "down", "unknown", ... (the kernel's words). */
const char *hal_netif_oper_name(enum hal_netif_oper oper);
/* The kernel's operstate word to the enum; an unknown word (a newer
 * kernel's) is HAL_NETIF_OPER_UNKNOWN. */
enum hal_netif_oper hal_netif_oper_parse(const char *word);
/* 1 if name can be an interface name (see hal_netif_read's -EINVAL),
 * else 0. */
int hal_netif_name_valid(const char *name);

#endif
