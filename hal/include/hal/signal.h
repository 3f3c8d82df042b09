/*
 * hal/signal.h — process signals turned into a readable descriptor, so the
 * event loop handles them like any other input (a self-pipe on Linux).
 *
 * Handled: TERM and INT (stop), HUP (reload).  SIGPIPE is ignored so a
 * dropped connection is an -EPIPE from hal_net_send, never a dead agent.
 */
#ifndef HAL_SIGNAL_H
#define HAL_SIGNAL_H

#define HAL_SIG_TERM 1
#define HAL_SIG_INT  2
#define HAL_SIG_HUP  3

/*
 * Installs the handlers.  Call once, before the loop.
 * @retval >=0 descriptor that becomes readable (HAL_POLLIN) when a signal
 *             is pending
 * @retval -EMFILE no descriptor left
 * @retval -EBUSY already open
 */
int hal_signal_open(void);

/*
 * Takes the next pending signal.
 * @retval HAL_SIG_* a signal, oldest first (repeats of one signal before
 *         it is taken collapse into one)
 * @retval 0 none pending
 */
int hal_signal_next(void);

/* Restores default handlers and closes the descriptor. */
void hal_signal_close(void);

#endif
