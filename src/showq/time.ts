/*
 * time - the two local-time layouts Postfix tools print: asctime's
 * "Wed Nov 25 10:20:10 2026" (postcat) and showq's "Wed Nov 25 10:20:10"
 * (no year). Local time, as the C library's localtime() gives it.
 */

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const two = (n: number) => String(n).padStart(2, '0');

/** "%a %b %e %H:%M:%S" in local time. */
export function showqTime(sec: number): string {
  const d = new Date(sec * 1000);
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** asctime() without its newline. */
export function ascTime(sec: number): string {
  return `${showqTime(sec)} ${new Date(sec * 1000).getFullYear()}`;
}
