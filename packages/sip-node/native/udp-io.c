/*
 * The native end of a UDP socket served by a thread of its own (see src/udp-io-thread.ts).
 *
 * A POSIX thread owns the socket. It moves datagrams between the socket and the two queues the SIP
 * thread reads and writes (src/datagram-ring.js, same layout, same wake-up protocol), many per system
 * call: recvmmsg(2) and sendmmsg(2) (Linux). Node's dgram costs a JavaScript callback, a Buffer and an
 * rinfo object per datagram received and a request object per datagram sent; on the REGISTER bench
 * that was about 40% of the JavaScript I/O thread's CPU, the rest being the kernel's own work, which
 * stays the same here (docs/benchmarks.md).
 *
 * Wake-ups, only when the other side sleeps with nothing queued:
 * - SIP thread -> this thread: the SIP thread calls wake(), which writes an eventfd this thread polls;
 * - this thread -> SIP thread: a thread-safe function call (a libuv async handle), which runs the JS
 *   callback given to open() on the SIP thread's event loop.
 *
 * Built by scripts/build-native.mjs (cc, Node's headers); without it the JavaScript worker serves.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <node_api.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

/* datagram-ring.js control words and record header. */
/* SOCKET_ERRORS: kernel errors this thread met, counted in the inbound queue so the SIP thread reads them without a call. */
enum { HEAD = 0, TAIL = 1, WAITING = 2, BELL = 3, CLOSED = 4, DROPPED = 5, SOCKET_ERRORS = 6, CONTROL_BYTES = 8 * 4 };
enum { HEADER_BYTES = 12, MAX_ADDRESS = 255 };
/* Datagrams per recvmmsg/sendmmsg call. */
enum { BATCH = 32 };
/* The largest UDP payload (IPv6 jumbograms aside). */
enum { MAX_DATAGRAM = 65535 };

typedef struct {
  int32_t *control;
  uint8_t *data;
  uint32_t capacity;
} ring_t;

typedef struct {
  int fd;
  int wake_fd;
  int ipv6;
  pthread_t thread;
  int started;
  volatile int stop;
  ring_t in;  /* this thread produces */
  ring_t out; /* this thread consumes */
  napi_threadsafe_function notify_js;
  napi_ref in_ref, out_ref;
  /* The last kernel error on send or receive (their count is the inbound queue's SOCKET_ERRORS word). */
  int32_t last_errno;
  /* recvmmsg buffers. */
  struct mmsghdr rmsgs[BATCH];
  struct iovec riov[BATCH];
  struct sockaddr_storage raddr[BATCH];
  uint8_t *rbuf;
  /* sendmmsg staging: payloads are copied out of the ring so the ring can advance. */
  struct mmsghdr smsgs[BATCH];
  struct iovec siov[BATCH];
  struct sockaddr_storage saddr[BATCH];
  uint8_t *sbuf;
  /* The last address text parsed for sending, and formatted on receipt: a peer sends and is sent to many times. */
  char last_to_text[MAX_ADDRESS + 1];
  uint8_t last_to_len;
  struct sockaddr_storage last_to;
  socklen_t last_to_size;
  struct sockaddr_storage last_from;
  char last_from_text[INET6_ADDRSTRLEN];
  uint8_t last_from_len;
} io_t;

static int32_t load32(int32_t *w) { return __atomic_load_n(w, __ATOMIC_SEQ_CST); }
static void store32(int32_t *w, int32_t v) { __atomic_store_n(w, v, __ATOMIC_SEQ_CST); }
static int cas32(int32_t *w, int32_t expected, int32_t v) {
  return __atomic_compare_exchange_n(w, &expected, v, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
}
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; } /* little-endian host */
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }

/* Producer side of datagram-ring.js write(): 1 queued, 0 dropped (counted). */
static int ring_write(io_t *io, const uint8_t *payload, uint32_t len, const char *addr, uint8_t alen, uint16_t port) {
  ring_t *r = &io->in;
  uint32_t record = (HEADER_BYTES + alen + len + 3) & ~3u;
  uint32_t cap = r->capacity;
  uint32_t head = (uint32_t)r->control[HEAD];
  uint32_t tail = (uint32_t)load32(&r->control[TAIL]);
  if (head >= tail) {
    if (cap - head < record + (tail == 0 ? 1 : 0)) {
      if (record >= tail) goto drop;
      if (cap - head >= 4) put32(r->data + head, 0); /* wrap marker */
      head = 0;
    }
  } else if (tail - head <= record) {
    goto drop;
  }
  uint8_t *d = r->data + head;
  put32(d, record);
  put32(d + 4, len);
  d[8] = (uint8_t)(port & 0xff);
  d[9] = (uint8_t)(port >> 8);
  d[10] = alen;
  d[11] = 0;
  memcpy(d + HEADER_BYTES, addr, alen);
  memcpy(d + HEADER_BYTES + alen, payload, len);
  uint32_t next = head + record;
  if (next == cap) next = 0;
  store32(&r->control[HEAD], (int32_t)next);
  return 1;
drop:
  __atomic_add_fetch(&r->control[DROPPED], 1, __ATOMIC_SEQ_CST);
  return 0;
}

/* After a batch was queued: wakes the SIP thread if it sleeps (datagram-ring.js waitForNative). */
static void wake_js_if_waiting(io_t *io) {
  int32_t *c = io->in.control;
  if (load32(&c[WAITING]) == 1 && cas32(&c[WAITING], 1, 0)) {
    __atomic_add_fetch(&c[BELL], 1, __ATOMIC_SEQ_CST);
    napi_call_threadsafe_function(io->notify_js, NULL, napi_tsfn_nonblocking);
  }
}

static void note_error(io_t *io, int err) {
  __atomic_store_n(&io->last_errno, err, __ATOMIC_SEQ_CST);
  __atomic_add_fetch(&io->in.control[SOCKET_ERRORS], 1, __ATOMIC_SEQ_CST);
}

/* Receives what the socket holds, a batch per call; returns how many datagrams were queued. */
static int receive_some(io_t *io) {
  int queued = 0;
  for (int round = 0; round < 4; round++) {
    for (int i = 0; i < BATCH; i++) io->rmsgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
    int n = recvmmsg(io->fd, io->rmsgs, BATCH, MSG_DONTWAIT, NULL);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) break;
      /* ICMP errors of earlier sends (ECONNREFUSED...) surface here: noted, and the socket goes on. */
      note_error(io, errno);
      continue;
    }
    for (int i = 0; i < n; i++) {
      struct sockaddr_storage *sa = &io->raddr[i];
      uint16_t port;
      if (sa->ss_family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;
        port = ntohs(s6->sin6_port);
        if (memcmp(&io->last_from, sa, sizeof(struct sockaddr_in6)) != 0 || io->last_from_len == 0) {
          inet_ntop(AF_INET6, &s6->sin6_addr, io->last_from_text, sizeof io->last_from_text);
          io->last_from_len = (uint8_t)strlen(io->last_from_text);
          memcpy(&io->last_from, sa, sizeof(struct sockaddr_in6));
        }
      } else if (sa->ss_family == AF_INET) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)sa;
        port = ntohs(s4->sin_port);
        if (memcmp(&io->last_from, sa, sizeof(struct sockaddr_in)) != 0 || io->last_from_len == 0) {
          inet_ntop(AF_INET, &s4->sin_addr, io->last_from_text, sizeof io->last_from_text);
          io->last_from_len = (uint8_t)strlen(io->last_from_text);
          memset(&io->last_from, 0, sizeof io->last_from);
          memcpy(&io->last_from, sa, sizeof(struct sockaddr_in));
        }
      } else {
        continue;
      }
      if (ring_write(io, io->riov[i].iov_base, io->rmsgs[i].msg_len, io->last_from_text, io->last_from_len, port)) queued++;
    }
    if (n < BATCH) break;
  }
  return queued;
}

/* The sockaddr of an address text (IPv4 mapped onto an IPv6 socket by the caller already). */
static int to_sockaddr(io_t *io, const uint8_t *text, uint8_t len, uint16_t port, struct sockaddr_storage *out, socklen_t *size) {
  if (len != io->last_to_len || memcmp(text, io->last_to_text, len) != 0) {
    char buf[MAX_ADDRESS + 1];
    memcpy(buf, text, len);
    buf[len] = 0;
    struct sockaddr_storage sa;
    memset(&sa, 0, sizeof sa);
    socklen_t sz;
    if (io->ipv6) {
      struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sa;
      s6->sin6_family = AF_INET6;
      sz = sizeof(struct sockaddr_in6);
      if (inet_pton(AF_INET6, buf, &s6->sin6_addr) != 1) {
        /* A scoped address (fe80::1%eth0): the resolver reads the zone, still without a lookup. */
        struct addrinfo hints, *res = NULL;
        memset(&hints, 0, sizeof hints);
        hints.ai_family = AF_INET6;
        hints.ai_socktype = SOCK_DGRAM;
        hints.ai_flags = AI_NUMERICHOST;
        if (strchr(buf, '%') == NULL || getaddrinfo(buf, NULL, &hints, &res) != 0 || res == NULL) return 0;
        memcpy(&sa, res->ai_addr, res->ai_addrlen < sizeof sa ? res->ai_addrlen : sizeof sa);
        freeaddrinfo(res);
      }
    } else {
      struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;
      s4->sin_family = AF_INET;
      if (inet_pton(AF_INET, buf, &s4->sin_addr) != 1) return 0;
      sz = sizeof(struct sockaddr_in);
    }
    memcpy(io->last_to_text, buf, len);
    io->last_to_len = len;
    io->last_to = sa;
    io->last_to_size = sz;
  }
  *out = io->last_to;
  *size = io->last_to_size;
  if (io->ipv6) ((struct sockaddr_in6 *)out)->sin6_port = htons(port);
  else ((struct sockaddr_in *)out)->sin_port = htons(port);
  return 1;
}

/* Sends what the SIP thread queued, a batch per call; returns how many records were taken. */
static int send_some(io_t *io) {
  ring_t *r = &io->out;
  int taken = 0;
  for (;;) {
    int n = 0;
    uint32_t used = 0;
    while (n < BATCH) {
      uint32_t tail = (uint32_t)r->control[TAIL];
      uint32_t head = (uint32_t)load32(&r->control[HEAD]);
      if (tail == head) break;
      if (r->capacity - tail < 4 || get32(r->data + tail) == 0) {
        tail = 0; /* the producer wrapped here */
        if (tail == head) {
          store32(&r->control[TAIL], 0);
          break;
        }
      }
      const uint8_t *d = r->data + tail;
      uint32_t record = get32(d), len = get32(d + 4);
      uint16_t port = (uint16_t)(d[8] | (d[9] << 8));
      uint8_t alen = d[10];
      const uint8_t *payload = d + HEADER_BYTES + alen;
      int ok = len <= MAX_DATAGRAM && used + len <= (uint32_t)BATCH * MAX_DATAGRAM &&
               to_sockaddr(io, d + HEADER_BYTES, alen, port, &io->saddr[n], &io->smsgs[n].msg_hdr.msg_namelen);
      if (ok) {
        memcpy(io->sbuf + used, payload, len);
        io->siov[n].iov_base = io->sbuf + used;
        io->siov[n].iov_len = len;
        used += len;
        n++;
      } else {
        note_error(io, EINVAL);
      }
      uint32_t next = tail + record;
      if (next == r->capacity) next = 0;
      store32(&r->control[TAIL], (int32_t)next);
      taken++;
    }
    int sent = 0;
    while (sent < n) {
      int k = sendmmsg(io->fd, io->smsgs + sent, (unsigned)(n - sent), 0);
      if (k < 0) {
        if (errno == EINTR) continue;
        /* This datagram is refused (a full buffer, an unreachable network): noted, the next one goes on. */
        note_error(io, errno);
        sent++;
      } else {
        sent += k;
      }
    }
    if (n < BATCH) return taken;
  }
}

static void *run(void *arg) {
  io_t *io = arg;
  int32_t *oc = io->out.control;
  while (!io->stop) {
    int moved = send_some(io);
    int got = receive_some(io);
    if (got > 0) wake_js_if_waiting(io);
    if (moved > 0 || got > 0) continue;
    /* Nothing to do: sleep, after telling the SIP thread (datagram-ring.js write) to wake us. */
    store32(&oc[WAITING], 1);
    if ((uint32_t)load32(&oc[HEAD]) != (uint32_t)oc[TAIL]) {
      store32(&oc[WAITING], 0);
      continue;
    }
    struct pollfd p[2] = {{io->fd, POLLIN, 0}, {io->wake_fd, POLLIN, 0}};
    int rc = poll(p, 2, -1);
    store32(&oc[WAITING], 0);
    if (rc > 0 && (p[1].revents & POLLIN)) {
      uint64_t v;
      ssize_t ignored = read(io->wake_fd, &v, sizeof v);
      (void)ignored;
    }
  }
  return NULL;
}

/* ---- JavaScript interface ---- */

#define CHECK(call)                                                                                     \
  do {                                                                                                  \
    if ((call) != napi_ok) {                                                                            \
      napi_throw_error(env, NULL, "udp-io: " #call " failed");                                          \
      return NULL;                                                                                      \
    }                                                                                                   \
  } while (0)

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_value m, e, code;
  napi_create_string_utf8(env, msg, NAPI_AUTO_LENGTH, &m);
  napi_create_error(env, NULL, m, &e);
  const char *name = err == EADDRINUSE ? "EADDRINUSE" : err == EADDRNOTAVAIL ? "EADDRNOTAVAIL" : err == EACCES ? "EACCES" : "EIO";
  napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &code);
  napi_set_named_property(env, e, "code", code);
  napi_throw(env, e);
  return NULL;
}

static int ring_of(napi_env env, napi_value view, ring_t *r) {
  napi_typedarray_type type;
  size_t length, offset;
  void *data;
  napi_value ab;
  if (napi_get_typedarray_info(env, view, &type, &length, &data, &ab, &offset) != napi_ok) return 0;
  if (type != napi_uint8_array || length <= CONTROL_BYTES || ((uintptr_t)data & 3) != 0) return 0;
  r->control = data;
  r->data = (uint8_t *)data + CONTROL_BYTES;
  r->capacity = (uint32_t)(length - CONTROL_BYTES);
  return 1;
}

static void call_js(napi_env env, napi_value js_cb, void *context, void *data) {
  (void)context;
  (void)data;
  if (env == NULL || js_cb == NULL) return;
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  napi_call_function(env, undefined, js_cb, 0, NULL, NULL);
}

static void stop_io(napi_env env, io_t *io) {
  if (io->started) {
    io->stop = 1;
    uint64_t one = 1;
    ssize_t ignored = write(io->wake_fd, &one, sizeof one);
    (void)ignored;
    pthread_join(io->thread, NULL);
    io->started = 0;
    napi_release_threadsafe_function(io->notify_js, napi_tsfn_abort);
  }
  if (io->fd >= 0) close(io->fd);
  if (io->wake_fd >= 0) close(io->wake_fd);
  io->fd = io->wake_fd = -1;
  if (env != NULL) {
    if (io->in_ref) napi_delete_reference(env, io->in_ref);
    if (io->out_ref) napi_delete_reference(env, io->out_ref);
  }
  io->in_ref = io->out_ref = NULL;
}

static void finalize_io(napi_env env, void *data, void *hint) {
  (void)hint;
  io_t *io = data;
  stop_io(env, io);
  free(io->rbuf);
  free(io->sbuf);
  free(io);
}

static io_t *unwrap(napi_env env, napi_callback_info info, size_t *argc, napi_value *argv) {
  napi_value self;
  void *io = NULL;
  if (napi_get_cb_info(env, info, argc, argv, &self, NULL) != napi_ok) return NULL;
  if (napi_unwrap(env, self, &io) != napi_ok) return NULL;
  return io;
}

/* open(host, port, ipv6, bufferSize, inboundView, outboundView, onData) -> bound port; binds the socket and starts the thread. */
static napi_value io_open(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  io_t *io = unwrap(env, info, &argc, argv);
  if (io == NULL || argc < 7) {
    napi_throw_type_error(env, NULL, "udp-io: open(host, port, ipv6, bufferSize, inbound, outbound, onData)");
    return NULL;
  }
  if (io->fd >= 0 || io->started) {
    napi_throw_error(env, NULL, "udp-io: already open");
    return NULL;
  }
  char host[INET6_ADDRSTRLEN + 1];
  size_t hl;
  uint32_t port, size;
  bool v6;
  CHECK(napi_get_value_string_utf8(env, argv[0], host, sizeof host, &hl));
  CHECK(napi_get_value_uint32(env, argv[1], &port));
  CHECK(napi_get_value_bool(env, argv[2], &v6));
  CHECK(napi_get_value_uint32(env, argv[3], &size));
  if (!ring_of(env, argv[4], &io->in) || !ring_of(env, argv[5], &io->out)) {
    napi_throw_type_error(env, NULL, "udp-io: the queues must be Uint8Arrays over shared memory");
    return NULL;
  }
  io->ipv6 = v6;
  struct sockaddr_storage sa;
  memset(&sa, 0, sizeof sa);
  socklen_t sz;
  if (v6) {
    struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&sa;
    s6->sin6_family = AF_INET6;
    s6->sin6_port = htons((uint16_t)port);
    if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1) return throw_errno(env, "udp-io: bad IPv6 address", EINVAL);
    sz = sizeof *s6;
  } else {
    struct sockaddr_in *s4 = (struct sockaddr_in *)&sa;
    s4->sin_family = AF_INET;
    s4->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &s4->sin_addr) != 1) return throw_errno(env, "udp-io: bad IPv4 address", EINVAL);
    sz = sizeof *s4;
  }
  int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "udp-io: socket", errno);
  if (bind(fd, (struct sockaddr *)&sa, sz) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "bind", err);
  }
  if (size > 0) {
    int s = (int)size;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &s, sizeof s);
    setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &s, sizeof s);
  }
  socklen_t got = sizeof sa;
  getsockname(fd, (struct sockaddr *)&sa, &got);
  uint32_t bound = v6 ? ntohs(((struct sockaddr_in6 *)&sa)->sin6_port) : ntohs(((struct sockaddr_in *)&sa)->sin_port);
  int wfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wfd < 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "udp-io: eventfd", err);
  }
  io->fd = fd;
  io->wake_fd = wfd;
  /* Keep the shared memory alive while the thread uses it. */
  CHECK(napi_create_reference(env, argv[4], 1, &io->in_ref));
  CHECK(napi_create_reference(env, argv[5], 1, &io->out_ref));
  napi_value name;
  CHECK(napi_create_string_utf8(env, "udp-io", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_create_threadsafe_function(env, argv[6], NULL, name, 0, 1, NULL, NULL, NULL, call_js, &io->notify_js));
  for (int i = 0; i < BATCH; i++) {
    io->riov[i].iov_base = io->rbuf + (size_t)i * MAX_DATAGRAM;
    io->riov[i].iov_len = MAX_DATAGRAM;
    io->rmsgs[i].msg_hdr.msg_iov = &io->riov[i];
    io->rmsgs[i].msg_hdr.msg_iovlen = 1;
    io->rmsgs[i].msg_hdr.msg_name = &io->raddr[i];
    io->smsgs[i].msg_hdr.msg_iov = &io->siov[i];
    io->smsgs[i].msg_hdr.msg_iovlen = 1;
    io->smsgs[i].msg_hdr.msg_name = &io->saddr[i];
  }
  if (pthread_create(&io->thread, NULL, run, io) != 0) {
    int err = errno;
    napi_release_threadsafe_function(io->notify_js, napi_tsfn_abort);
    stop_io(env, io);
    return throw_errno(env, "udp-io: pthread_create", err);
  }
  io->started = 1;
  napi_value result;
  CHECK(napi_create_uint32(env, bound, &result));
  return result;
}

/* wake(): the SIP thread queued a datagram for a sleeping I/O thread. */
static napi_value io_wake(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  io_t *io = unwrap(env, info, &argc, NULL);
  if (io != NULL && io->wake_fd >= 0) {
    uint64_t one = 1;
    ssize_t ignored = write(io->wake_fd, &one, sizeof one);
    (void)ignored;
  }
  return NULL;
}

/* lastError() -> the text of the last kernel error on this socket ("" when none). */
static napi_value io_last_error(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  io_t *io = unwrap(env, info, &argc, NULL);
  if (io == NULL) return NULL;
  napi_value text;
  int err = __atomic_load_n(&io->last_errno, __ATOMIC_SEQ_CST);
  CHECK(napi_create_string_utf8(env, err == 0 ? "" : strerror(err), NAPI_AUTO_LENGTH, &text));
  return text;
}

/* close(): stops the thread and closes the socket; idempotent. */
static napi_value io_close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  io_t *io = unwrap(env, info, &argc, NULL);
  if (io != NULL) stop_io(env, io);
  return NULL;
}

static napi_value io_new(napi_env env, napi_callback_info info) {
  napi_value self;
  CHECK(napi_get_cb_info(env, info, NULL, NULL, &self, NULL));
  io_t *io = calloc(1, sizeof *io);
  if (io == NULL) return throw_errno(env, "udp-io", ENOMEM);
  io->fd = io->wake_fd = -1;
  io->rbuf = malloc((size_t)BATCH * MAX_DATAGRAM);
  io->sbuf = malloc((size_t)BATCH * MAX_DATAGRAM);
  if (io->rbuf == NULL || io->sbuf == NULL) {
    free(io->rbuf);
    free(io->sbuf);
    free(io);
    return throw_errno(env, "udp-io", ENOMEM);
  }
  CHECK(napi_wrap(env, self, io, finalize_io, NULL, NULL));
  return self;
}

NAPI_MODULE_INIT() {
  napi_property_descriptor methods[] = {
      {"open", NULL, io_open, NULL, NULL, NULL, napi_default, NULL},
      {"wake", NULL, io_wake, NULL, NULL, NULL, napi_default, NULL},
      {"lastError", NULL, io_last_error, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, io_close, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_value cls;
  if (napi_define_class(env, "UdpIo", NAPI_AUTO_LENGTH, io_new, NULL, 4, methods, &cls) != napi_ok) return NULL;
  napi_set_named_property(env, exports, "UdpIo", cls);
  return exports;
}
