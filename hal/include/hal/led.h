/*
 * hal/led.h — status LEDs through the Linux LED class
 * (/sys/class/leds/<name>); the board names the LED path.
 */
#ifndef HAL_LED_H
#define HAL_LED_H

/*
 * Sets the LED at led_dir (e.g. "/sys/class/leds/led0") on or off.  Sets
 * its trigger to "none" first so the kernel stops driving it.
 * @retval 0 done
 * @retval -ENOENT no such LED
 * @retval -EACCES not permitted
 * @retval -EIO write failed
 */
int hal_led_set(const char *led_dir, int on);

/*
 * Hands the LED to a kernel trigger ("heartbeat", "timer", "none", ...).
 * @retval 0 done
 * @retval -ENOENT no such LED
 * @retval -EINVAL the kernel does not know that trigger (or the name is
 *         empty or holds a blank or '/')
 * @retval -EACCES not permitted
 * @retval -EIO write failed
 */
int hal_led_trigger(const char *led_dir, const char *trigger);

#endif
