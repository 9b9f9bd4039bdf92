/* notify.h - tell systemd (Type=notify) when the milter is ready, reloading, stopping */
#ifndef RM_NOTIFY_H
#define RM_NOTIFY_H

/* notify_ready - READY=1: the milter socket listens (and after a reload) */
void notify_ready(void);

/* notify_reloading - RELOADING=1, with the monotonic time systemd 253+ wants */
void notify_reloading(void);

/* notify_stopping - STOPPING=1 */
void notify_stopping(void);

#endif
