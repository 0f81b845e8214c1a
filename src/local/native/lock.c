/*
 * lock.c - the fcntl and flock mailbox locks, as a tiny Node-API addon
 *
 * Node has no fcntl(F_SETLK) nor flock(2). This addon gives the process
 * that writes a mailbox both, on the very descriptor it writes through,
 * without a helper process:
 *
 *	lock(fd, "fcntl" | "flock")	0, or the errno of the failed attempt
 *	unlock(fd, "fcntl" | "flock")	0, or an errno
 *	strerror(errno)			the C library's text for it
 *
 * Attempts never block (the caller retries per deliver_lock_attempts and
 * deliver_lock_delay). The fcntl lock is a write lock on the whole file,
 * taken as an open file description lock (F_OFD_SETLK) where the kernel
 * has them: it conflicts with every classic fcntl/lockf lock of other
 * programs, and, unlike a classic lock, it also excludes a concurrent
 * delivery of the same process and is not dropped when that process
 * closes some other descriptor of the file. Older kernels get F_SETLK.
 * Built by scripts/build-native.mjs into dist/native/lock.node.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <node_api.h>

static int fcntl_op(int fd, short type)
{
    struct flock fl;

    memset(&fl, 0, sizeof(fl));
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
#ifdef F_OFD_SETLK
    if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
        return 0;
    if (errno != EINVAL)
        return errno;
#endif
    return fcntl(fd, F_SETLK, &fl) == 0 ? 0 : errno;
}

static int flock_op(int fd, int op)
{
    int r;

    do
        r = flock(fd, op | LOCK_NB);
    while (r < 0 && errno == EINTR);
    return r == 0 ? 0 : errno;
}

/* Arguments: fd, style. Returns -1 when they are not usable. */
static int args(napi_env env, napi_callback_info info, int *fd, int *is_flock)
{
    size_t argc = 2;
    napi_value argv[2];
    char style[8];
    size_t len = 0;

    if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2)
        return -1;
    if (napi_get_value_int32(env, argv[0], fd) != napi_ok || *fd < 0)
        return -1;
    if (napi_get_value_string_utf8(env, argv[1], style, sizeof(style), &len) != napi_ok)
        return -1;
    if (strcmp(style, "flock") == 0)
        *is_flock = 1;
    else if (strcmp(style, "fcntl") == 0)
        *is_flock = 0;
    else
        return -1;
    return 0;
}

static napi_value number(napi_env env, int n)
{
    napi_value v;

    napi_create_int32(env, n, &v);
    return v;
}

static napi_value js_lock(napi_env env, napi_callback_info info)
{
    int fd, is_flock;

    if (args(env, info, &fd, &is_flock) < 0)
        return number(env, EINVAL);
    return number(env, is_flock ? flock_op(fd, LOCK_EX) : fcntl_op(fd, F_WRLCK));
}

static napi_value js_unlock(napi_env env, napi_callback_info info)
{
    int fd, is_flock;

    if (args(env, info, &fd, &is_flock) < 0)
        return number(env, EINVAL);
    return number(env, is_flock ? flock_op(fd, LOCK_UN) : fcntl_op(fd, F_UNLCK));
}

static napi_value js_strerror(napi_env env, napi_callback_info info)
{
    size_t argc = 1;
    napi_value argv[1];
    int n = 0;
    napi_value v;

    if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1
        || napi_get_value_int32(env, argv[0], &n) != napi_ok)
        n = EINVAL;
    napi_create_string_utf8(env, strerror(n), NAPI_AUTO_LENGTH, &v);
    return v;
}

static napi_value init(napi_env env, napi_value exports)
{
    napi_property_descriptor props[] = {
        {"lock", NULL, js_lock, NULL, NULL, NULL, napi_enumerable, NULL},
        {"unlock", NULL, js_unlock, NULL, NULL, NULL, napi_enumerable, NULL},
        {"strerror", NULL, js_strerror, NULL, NULL, NULL, napi_enumerable, NULL},
    };

    napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
    return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
