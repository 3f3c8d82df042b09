/*
 * coap_server_int.h — what coap_server.c, coap_observe.c and
 * coap_resources.c share; nothing outside the CoAP server includes it.
 */
#ifndef VIGIL_COAP_SERVER_INT_H
#define VIGIL_COAP_SERVER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "coap_server.h"

/* One outgoing message around a struct coap_rep. */
struct coap_out {
	uint8_t type;           /* COAP_ACK, COAP_NON or COAP_CON */
	uint16_t mid;
	const uint8_t *token;   /* borrowed */
	size_t tkl;
	bool has_obs;
	uint32_t obs;           /* Observe value (24 bits) */
	size_t budget;          /* largest datagram allowed (see the
				 * amplification rule in coap_server.h) */
	bool has_block;         /* the client asked for blk */
	struct coap_block blk;
};

/*
 * Writes rep as the message o describes into buf (COAP_MAX_MSG): a
 * representation goes whole when it fits the budget and no block was
 * asked for, else as the asked (or largest fitting) Block2 block, with
 * Size2 in block 0.  *szx gets the block size used (7: not block-wise).
 * @retval >0       the message length
 * @retval -EBADMSG the asked block starts past the end (answer 4.02)
 * @retval -ENOSPC/-EINVAL from the writer (cannot happen with
 *                  COAP_MAX_MSG and our options; answered 5.00)
 */
int coap_srv_encode(const struct coap_rep *rep, const struct coap_out *o,
		    uint8_t *buf, size_t cap, uint8_t *szx);

/* Sends one datagram on socket index sock; a failure is counted and
 * logged at debug level (UDP: the peer retries).
 * @retval 0 sent  @retval <0 hal_net_sendto's error */
int coap_srv_send(struct coap_srv *s, unsigned sock,
		  const struct hal_addr *peer, const uint8_t *buf,
		  size_t len);

/* Sends rep as the answer to the exchange s->probe keeps (a deferred
 * POST /probe), keeps it for duplicates, and forgets the exchange. */
void coap_srv_answer_probe(struct coap_srv *s, const struct coap_rep *rep,
			   uint64_t now_ms);

/* A fresh message id for a message we originate. */
uint16_t coap_srv_new_mid(struct coap_srv *s);

/* Same family, address, port and scope. */
bool coap_addr_eq(const struct hal_addr *a, const struct hal_addr *b);

/* ---- coap_verify.c: address verification (RFC 9175 §2.4) ---- */

/* Draws the Echo key (hal_rng; the clock if it fails, logged).  Clears
 * the tables. */
void coap_vfy_init(struct coap_srv *s);

/* Marks peer verified (LRU: a full table forgets the least recently
 * used address). */
void coap_vfy_add(struct coap_srv *s, const struct hal_addr *peer,
		  uint64_t now_ms);

/* Whether peer is verified; refreshes its LRU time. */
bool coap_vfy_check(struct coap_srv *s, const struct hal_addr *peer,
		    uint64_t now_ms);

/* A fresh Echo value for peer into out (COAP_SRV_ECHO_LEN bytes).
 * @retval COAP_SRV_ECHO_LEN  @retval -EIO the MAC failed */
int coap_echo_make(const struct coap_srv *s, const struct hal_addr *peer,
		   uint64_t now_ms, uint8_t *out);

/* Whether val[0..len) is an Echo we made for peer, at most
 * COAP_SRV_ECHO_FRESH_S old (constant-time comparison). */
bool coap_echo_valid(const struct coap_srv *s, const struct hal_addr *peer,
		     const uint8_t *val, size_t len, uint64_t now_ms);

/*
 * Holds request dgram[0..len) (message id mid) from peer and sends peer a
 * ping.  A retransmission of a held request is held too (no new ping).
 * @retval 0       held (answered when the RST comes or the wait ends)
 * @retval -ENOSPC no free slot, or the datagram is longer than
 *                 COAP_SRV_HOLD_MAX: answer with Echo instead
 */
int coap_vfy_hold(struct coap_srv *s, unsigned sock,
		  const struct hal_addr *peer, uint16_t mid,
		  const uint8_t *dgram, size_t len, uint64_t now_ms);

/* An RST from peer: the answer to a ping verifies peer and answers its
 * held request (through coap_srv_datagram); a wrong one from a pending
 * address ends the wait (the held request gets the limited answer).
 * @retval true it answered our ping  @retval false anything else (it
 *         may still answer a notification) */
bool coap_vfy_rst(struct coap_srv *s, const struct hal_addr *peer,
		  uint16_t mid, uint64_t now_ms);

/* Held requests whose ping went unanswered get the limited answer.
 * @retval the ms to the next wait's end, at most next */
uint32_t coap_vfy_tick(struct coap_srv *s, uint64_t now_ms, uint32_t next);

/* ---- coap_probe.c ---- */

/* POST /probe (authorised, empty body): starts the attempt; rep is the
 * answer when it ended at once (refused, loopback) or could not start
 * (5.01 no server, 5.03 one under way), else rep->deferred and
 * coap_srv_answer_probe() answers when it ends. */
void coap_res_probe_post(struct coap_srv *s, struct coap_rep *rep);

/* Abandons a probe under way (coap_srv_stop); its request is not
 * answered.  Safe on a zeroed s. */
void coap_res_probe_stop(struct coap_srv *s);

/* ---- coap_observe.c ---- */

/*
 * The Observe option of GET m for observable resource res, from peer on
 * sock: 0 registers (or refreshes) the (peer, token) observer, 1 removes
 * it.  budget/has_block/szx: the size rules the registration's answer
 * used, kept for the notifications (set them with coap_obs_limits once
 * the answer is encoded).
 * @retval >=0 the observer's slot: answer with Observe = *seq
 * @retval -1  not observing (no option, deregistered, or no free slot)
 */
int coap_obs_request(struct coap_srv *s, unsigned sock,
		     const struct hal_addr *peer, const struct coap_msg *m,
		     uint8_t res, uint64_t now_ms, uint32_t *seq);

/* A later block (Block2 num > 0) of GET m for res from peer, which
 * repeats the Observe option: the Observe number of the observer's last
 * notification (RFC 7959 §2.6: nothing registers, no number is taken).
 * @retval >=0 the observer's slot, *seq set  @retval -1 no option or no
 *         such observer */
int coap_obs_current(const struct coap_srv *s, const struct hal_addr *peer,
		     const struct coap_msg *m, uint8_t res, uint32_t *seq);

/* The size rules for notifications of slot i. */
void coap_obs_limits(struct coap_srv *s, int i, size_t budget,
		     bool has_block, uint8_t szx);

/* Removes slot i (why: for the log). */
void coap_obs_drop(struct coap_srv *s, int i, const char *why);

/* An Empty ACK or an RST from peer: the answer to a notification. */
void coap_obs_answer(struct coap_srv *s, const struct hal_addr *peer,
		     const struct coap_msg *m, uint64_t now_ms);

/* Retransmissions, change check and refreshes; @retval ms to the next
 * deadline (<= COAP_SRV_IDLE_MS). */
uint32_t coap_obs_tick(struct coap_srv *s, uint64_t now_ms);

/* One item of a comma-separated config list (p[0..n), blanks trimmed,
 * never empty), the i-th.  @retval 0 taken  @retval <0 invalid */
typedef int coap_cfg_item_fn(void *ctx, unsigned i, const char *p, size_t n);
/*
 * Splits text ("none", or items separated by commas) and hands each item
 * to item (coap.listen, coap.psk).
 * @retval >=0 the number of items
 * @retval -EINVAL an empty item, a trailing comma, more than max items,
 *         or an item refused
 */
int coap_cfg_list(const char *text, coap_cfg_item_fn *item, void *ctx,
		  unsigned max);

#endif
