/*
 * starling-load: Starling's native MQTT load generator (MQTT 3.1.1 and 5.0, loopback or any host).
 *
 * Single-threaded, one epoll set per process: the publishers of a scenario share one loop, its subscribers
 * another (see -j below), the idle connections of s5 one more. Sockets are non-blocking; output is appended to a
 * per-connection buffer allocated once when the connection is created and sent at most once per pass of the loop;
 * input is read in large chunks into one shared buffer and parsed in place. No allocation happens per message:
 * PUBLISH packets are copied from a template built once per publisher, with the packet identifier and the send
 * time patched in.
 *
 *   starling-load SCENARIO [-h HOST] [-p PORT] [-d WINDOW_S] [-w WARMUP_S] [-n CONNS] [-b BROKER_PID]
 *                 [-V 4|5] [-x SESSION_EXPIRY_S] [-k KEEPALIVE_S] [-y PAUSE_US] [-m MAX_CONNECTING]
 *                 [-P PUBLISHERS] [-S SUBSCRIBERS] [-q QOS] [-s BYTES] [-f INFLIGHT] [-t SETTLE_S] [-T PRESETTLE_MAX_S] [-j 1|2]
 *                 [-O SUB_PORT] [-R RATE]
 *
 * -O connects the subscribers to another port of HOST than the publishers (e.g. another node of a cluster).
 * -R holds QoS 0 publishers together to RATE messages a second (default 0: flat out), so that the broker's CPU per
 * message can be read below saturation (broker_cpu over delivered_per_s); between sends the loop waits in epoll for
 * up to 1 ms instead of spinning.
 *
 * In s1-s4 the subscribers run in a second process of the same kind, forked at the start, which reports its
 * deliveries and latencies through shared memory (gen_cpu counts both processes), so that the publishers' side
 * and the subscribers' side each have a loop of their own as they would on two client machines; -j 1 keeps
 * everything in one process.
 *
 * Scenarios: s1 fan-in, s2 QoS 1 pairs, s3 fan-out, s4 QoS 2 pairs, s5 idle connections (see docs/bench.md), and
 * "probe" (one CONNECT; exit status 0 once a CONNACK accepts it). The last line printed is the RESULT line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IN_CHUNK (256 * 1024)       /* one read() asks for up to this much */
#define BUSY_OUT (256 * 1024)       /* output buffer of a publisher or subscriber */
#define IDLE_OUT 512                /* output buffer of an idle (s5) connection */
#define QOS0_KEEP (32 * 1024)       /* a QoS 0 publisher tops its queue up to this many bytes */
#define MAX_PACKET (4 * 1024 * 1024)
#define HIST_US 10                  /* latency histogram: buckets of 10 us ... */
#define HIST_N 500000               /* ... up to 5 s; later arrivals land in the last bucket */
#define PEND_Q2 64                  /* QoS 2 messages a subscriber may hold awaiting PUBREL */
#define MAX_EVENTS 512

enum role { R_PUB, R_SUB, R_IDLE };
enum state { S_TCP, S_CONNACK, S_SUBACK, S_READY, S_DEAD };

struct q2 { uint16_t id; int64_t sent_ns; };

struct conn {
    int fd, idx, role, state, dirty, blocked;
    uint32_t events;
    uint16_t next_id;
    int inflight;
    unsigned char *out; int out_head, out_tail, out_cap;
    unsigned char *rest; int rest_len, rest_cap;        /* an incomplete packet left from the last read */
    unsigned char *tmpl; int tmpl_len, id_at, ts_at;    /* publisher: its PUBLISH, encoded once */
    char topic[128];
    struct q2 q2[PEND_Q2]; int nq2;
    int64_t last_tx;
};

/* ---------------------------------------------------------------------------------------------- settings */
static const char *host = "127.0.0.1", *port = "1883", *scen = "s2";
static double window_s = 20, warmup_s = 5, settle_s = 5;
/* s5: at most this many seconds waiting for the broker's RSS to stop moving before the baseline reading */
static double presettle_max_s = 30;
static int conns_wanted = 10000, broker_pid = 0, version = 4, keepalive = 60, pause_us = 30, max_connecting = 100;
static long session_expiry = 0;
static int quiet;                      /* probe: no messages about failed connections */
static int n_pub, n_sub, qos, size, inflight_cap;
static const char *pub_topic = "", *sub_topic = "";

/* ---------------------------------------------------------------------------------------------- state */
static struct conn *conns;
static int n_conns, ep, connecting, launched_sub, launched_pub, launched_idle, ready_sub, ready_pub, ready_idle;
static int failed_sub, failed_pub, failed_idle, client_errors;
static struct conn **dirty;
static int n_dirty;
static unsigned char inbuf[IN_CHUNK + MAX_PACKET];
static struct addrinfo *addr, *sub_addr;
static const char *sub_port;
static int64_t t_start, t_pubs_ready, t_window_open, t_window_close;
/* What the subscribers' side reports to the publishers' side. With -j 2 the subscribers run in a child process
 * and this lives in memory shared with it; the child is its only writer except for stop and window_state. */
struct shared {
    int subs_settled, subs_ready, stop, window_state, child_errors;   /* window_state: 0 before, 1 open, 2 closed */
    long long received, hist_n;
    uint32_t hist[HIST_N];
};
static struct shared *sh;
static int split = 1, is_child, local_sub;
static pid_t child_pid, parent_pid;
static long long sent, acked, w_sent, w_acked, w_received;
#define LOAD(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what) {
    fprintf(stderr, "starling-load: %s: %s\n", what, strerror(errno));
    exit(2);
}

/* ---------------------------------------------------------------------------------------------- /proc */
struct cpu_mark { long long broker, self, busy, total; int64_t at; };

static long long proc_ticks(const char *path) {
    char buf[1024];
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')');
    if (!p) return -1;
    long long utime = 0, stime = 0;
    /* after the command: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lld %lld", &utime, &stime) != 2) return -1;
    return utime + stime;
}

static void machine_ticks(long long *busy, long long *total) {
    long long v[8] = {0};
    FILE *f = fopen("/proc/stat", "r");
    *busy = *total = 0;
    if (!f) return;
    if (fscanf(f, "cpu %lld %lld %lld %lld %lld %lld %lld %lld", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
               &v[7]) == 8) {
        for (int i = 0; i < 8; i++) *total += v[i];
        *busy = *total - v[3] - v[4];   /* everything but idle and iowait */
    }
    fclose(f);
}

static long rss_kb(int pid) {
    char path[64], line[256];
    long kb = 0;
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld", &kb) == 1) break;
    fclose(f);
    return kb;
}

/* s5: a freshly started JVM grows and shrinks its RSS for a while (heap sizing, JIT, native memory handed back), so
 * a baseline read at once makes the per-connection figure meaningless. Wait until two readings one second apart
 * differ by less than 256 KB three times in a row, or presettle_max_s has passed; returns the seconds waited. */
static double presettle(void) {
    if (!broker_pid || presettle_max_s <= 0) return 0;
    int64_t t0 = now_ns();
    long last = rss_kb(broker_pid);
    int calm = 0;
    while (calm < 3 && now_ns() - t0 < (int64_t) (presettle_max_s * 1e9)) {
        struct timespec ts = {1, 0};
        nanosleep(&ts, NULL);
        long cur = rss_kb(broker_pid);
        calm = labs(cur - last) < 256 ? calm + 1 : 0;
        last = cur;
    }
    return (now_ns() - t0) / 1e9;
}

static void cpu_mark(struct cpu_mark *m) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/stat", broker_pid);
    m->broker = broker_pid ? proc_ticks(path) : -1;
    m->self = proc_ticks("/proc/self/stat");
    if (child_pid > 0) {
        snprintf(path, sizeof path, "/proc/%d/stat", (int) child_pid);
        long long t = proc_ticks(path);
        if (t > 0) m->self += t;
    }
    machine_ticks(&m->busy, &m->total);
    m->at = now_ns();
}

/* percent of one core between two marks, as "broker_cpu=.. gen_cpu=.. other_cpu=.. machine_cpu=../.." */
static void cpu_fields(const struct cpu_mark *a, const struct cpu_mark *b, char *out, size_t len) {
    double hz = (double) sysconf(_SC_CLK_TCK), dt = (b->at - a->at) / 1e9;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (dt <= 0) dt = 1e-9;
    double gen = (b->self - a->self) / hz / dt * 100;
    double all = b->total > a->total ? (double) (b->busy - a->busy) / (b->total - a->total) * cores * 100 : 0;
    double brk = (a->broker >= 0 && b->broker >= 0) ? (b->broker - a->broker) / hz / dt * 100 : -1;
    double other = all - gen - (brk > 0 ? brk : 0);
    if (other < 0) other = 0;
    char bs[32];
    if (brk >= 0) snprintf(bs, sizeof bs, "%.0f", brk); else snprintf(bs, sizeof bs, "na");
    snprintf(out, len, "broker_cpu=%s gen_cpu=%.0f other_cpu=%.0f machine_cpu=%.0f/%ld", bs, gen, other, all,
             cores * 100);
}

/* ---------------------------------------------------------------------------------------------- output */
static void mark_dirty(struct conn *c) {
    if (!c->dirty) { c->dirty = 1; dirty[n_dirty++] = c; }
}

/* room for n more bytes at the tail of c's output, moving what is unsent to the front when needed */
static unsigned char *reserve(struct conn *c, int n) {
    if (c->out_cap - c->out_tail < n && c->out_head > 0) {
        memmove(c->out, c->out + c->out_head, c->out_tail - c->out_head);
        c->out_tail -= c->out_head;
        c->out_head = 0;
    }
    if (c->out_cap - c->out_tail < n) return NULL;
    unsigned char *p = c->out + c->out_tail;
    c->out_tail += n;
    mark_dirty(c);
    return p;
}

static int pending(const struct conn *c) { return c->out_tail - c->out_head; }

static void set_events(struct conn *c) {
    if (c->state == S_DEAD) return;
    uint32_t want;
    if (c->state == S_TCP) want = EPOLLOUT;
    else want = (pending(c) > c->out_cap / 2 ? 0 : EPOLLIN) | (c->blocked ? EPOLLOUT : 0);
    if (want != c->events) {
        struct epoll_event ev = {.events = want, .data.ptr = c};
        if (epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev) < 0) die("epoll_ctl");
        c->events = want;
    }
}

static void lose(struct conn *c, const char *why);

static void flush(struct conn *c) {
    c->dirty = 0;
    if (c->state == S_DEAD || c->state == S_TCP) return;
    while (pending(c) > 0) {
        ssize_t n = send(c->fd, c->out + c->out_head, pending(c), MSG_NOSIGNAL);
        if (n > 0) {
            c->out_head += (int) n;
            c->last_tx = now_ns();
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        lose(c, "send");
        return;
    }
    if (pending(c) == 0) c->out_head = c->out_tail = 0;
    c->blocked = pending(c) > 0;
    set_events(c);
}

static void flush_dirty(void) {
    for (int i = 0; i < n_dirty; i++) flush(dirty[i]);
    n_dirty = 0;
}

/* ---------------------------------------------------------------------------------------------- encoding */
static int put_varint(unsigned char *p, int v) {
    int n = 0;
    do {
        unsigned char b = v % 128;
        v /= 128;
        p[n++] = b | (v > 0 ? 128 : 0);
    } while (v > 0);
    return n;
}

static int put_str(unsigned char *p, const char *s, int len) {
    p[0] = (unsigned char) (len >> 8);
    p[1] = (unsigned char) len;
    memcpy(p + 2, s, len);
    return 2 + len;
}

static void send_connect(struct conn *c) {
    unsigned char body[256], *p = body;
    char id[64];
    int idl = snprintf(id, sizeof id, "sload-%d-%c%d", (int) getpid(), "psi"[c->role], c->idx);
    p += put_str(p, "MQTT", 4);
    *p++ = (unsigned char) version;
    int persistent = session_expiry != 0;
    *p++ = (version == 5 || !persistent) ? 0x02 : 0x00;     /* 5.0: Clean Start; 3.1.1: Clean Session unless kept */
    *p++ = (unsigned char) (keepalive >> 8);
    *p++ = (unsigned char) keepalive;
    if (version == 5) {
        if (persistent) {
            uint32_t e = session_expiry < 0 ? 0xFFFFFFFFu : (uint32_t) session_expiry;
            *p++ = 5; *p++ = 0x11;                           /* properties: Session Expiry Interval */
            *p++ = e >> 24; *p++ = e >> 16; *p++ = e >> 8; *p++ = e;
        } else {
            *p++ = 0;
        }
    }
    p += put_str(p, id, idl);
    int blen = (int) (p - body);
    unsigned char *o = reserve(c, blen + 5);
    int h = 0;
    o[h++] = 0x10;
    h += put_varint(o + h, blen);
    memcpy(o + h, body, blen);
    c->out_tail -= 5 - h;   /* reserved 5 for the header, used h */
}

static void send_subscribe(struct conn *c) {
    int tl = (int) strlen(c->topic);
    int blen = 2 + (version == 5 ? 1 : 0) + 2 + tl + 1;
    unsigned char *o = reserve(c, blen + 5), *p = o;
    *p++ = 0x82;
    p += put_varint(p, blen);
    *p++ = 0; *p++ = 1;
    if (version == 5) *p++ = 0;
    p += put_str(p, c->topic, tl);
    *p++ = (unsigned char) qos;
    c->out_tail -= (int) (o + blen + 5 - p);
}

static void send_ack(struct conn *c, unsigned char type, uint16_t id) {
    unsigned char *o = reserve(c, 4);
    if (!o) { lose(c, "output full"); return; }
    o[0] = type; o[1] = 2; o[2] = (unsigned char) (id >> 8); o[3] = (unsigned char) id;
}

static void build_template(struct conn *c) {
    int tl = (int) strlen(c->topic);
    int vlen = 2 + tl + (qos ? 2 : 0) + (version == 5 ? 1 : 0);
    int rem = vlen + size;
    c->tmpl = calloc(1, rem + 5);
    if (!c->tmpl) die("calloc");
    unsigned char *p = c->tmpl;
    *p++ = (unsigned char) (0x30 | (qos << 1));
    p += put_varint(p, rem);
    p += put_str(p, c->topic, tl);
    c->id_at = qos ? (int) (p - c->tmpl) : -1;
    if (qos) p += 2;
    if (version == 5) *p++ = 0;
    c->ts_at = (int) (p - c->tmpl);
    c->tmpl_len = c->ts_at + size;
}

/* queue one PUBLISH; 0 when the output buffer has no room */
static int publish_one(struct conn *c) {
    unsigned char *o = reserve(c, c->tmpl_len);
    if (!o) return 0;
    memcpy(o, c->tmpl, c->tmpl_len);
    if (qos) {
        if (++c->next_id == 0) c->next_id = 1;
        o[c->id_at] = (unsigned char) (c->next_id >> 8);
        o[c->id_at + 1] = (unsigned char) c->next_id;
        c->inflight++;
    }
    int64_t t = now_ns();
    memcpy(o + c->ts_at, &t, sizeof t);
    sent++;
    return 1;
}

static int running(void) { return t_pubs_ready != 0; }

/* -R: whether the QoS 0 publishers, together, may send one more message now */
static double rate_per_s = 0;
static int64_t rate_t0;
static long long rate_base;
static int pump_from;
static int rate_allows(void) {
    if (rate_per_s <= 0) return 1;
    int64_t now = now_ns();
    if (!rate_t0) { rate_t0 = now; rate_base = sent; }
    return (double) (sent - rate_base) < (double) (now - rate_t0) * rate_per_s / 1e9;
}

static void pump(struct conn *c) {
    if (c->role != R_PUB || c->state != S_READY || !running()) return;
    if (qos == 0) {
        while (pending(c) < QOS0_KEEP && rate_allows() && publish_one(c)) {}
    } else {
        while (c->inflight < inflight_cap && publish_one(c)) {}
    }
}

/* ---------------------------------------------------------------------------------------------- connections */
static void record_latency(int64_t sent_ns) {
    int64_t us = (now_ns() - sent_ns) / 1000;
    long b = us < 0 ? 0 : us / HIST_US;
    if (b >= HIST_N) b = HIST_N - 1;
    sh->hist[b]++;
    STORE(sh->hist_n, sh->hist_n + 1);
}

static void delivered(int64_t sent_ns) {
    STORE(sh->received, sh->received + 1);
    if (qos > 0 && LOAD(sh->window_state) == 1) record_latency(sent_ns);
}

static void settle_failed(struct conn *c) {
    if (c->role == R_SUB) failed_sub++; else if (c->role == R_PUB) failed_pub++; else failed_idle++;
}

static void lose(struct conn *c, const char *why) {
    if (c->state == S_DEAD) return;
    if (client_errors < 5 && !quiet)
        fprintf(stderr, "starling-load: client %c%d: %s%s%s\n", "psi"[c->role], c->idx, why, errno ? ": " : "",
                errno ? strerror(errno) : "");
    client_errors++;
    if (is_child) __atomic_add_fetch(&sh->child_errors, 1, __ATOMIC_RELAXED);
    if (c->state != S_READY) { connecting--; settle_failed(c); }
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->state = S_DEAD;
}

static void became_ready(struct conn *c) {
    c->state = S_READY;
    connecting--;
    if (c->role == R_SUB) ready_sub++; else if (c->role == R_PUB) ready_pub++; else ready_idle++;
    pump(c);
}

static void launch(int role, int idx) {
    struct conn *c = &conns[n_conns++];
    memset(c, 0, sizeof *c);
    c->role = role;
    c->idx = idx;
    c->out_cap = role == R_IDLE ? IDLE_OUT : BUSY_OUT;
    c->out = malloc(c->out_cap);
    if (!c->out) die("malloc");
    const char *tpl = role == R_PUB ? pub_topic : role == R_SUB ? sub_topic : "";
    const char *pct = strstr(tpl, "%i");
    if (pct) snprintf(c->topic, sizeof c->topic, "%.*s%d%s", (int) (pct - tpl), tpl, idx + 1, pct + 2);
    else snprintf(c->topic, sizeof c->topic, "%s", tpl);
    if (role == R_PUB) build_template(c);
    struct addrinfo *to = role == R_SUB && sub_addr ? sub_addr : addr;
    c->fd = socket(to->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) die("socket");
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->state = S_TCP;
    c->events = EPOLLOUT;
    connecting++;
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) < 0) die("epoll_ctl");
    errno = 0;
    if (connect(c->fd, to->ai_addr, to->ai_addrlen) < 0 && errno != EINPROGRESS) lose(c, "connect");
}

static void handle_packet(struct conn *c, unsigned char type, const unsigned char *b, int len) {
    switch (type >> 4) {
    case 2: /* CONNACK */
        if (len < 2 || b[1] != 0) { errno = 0; lose(c, "connection refused"); return; }
        if (c->role == R_SUB) { c->state = S_SUBACK; send_subscribe(c); }
        else became_ready(c);
        break;
    case 9: /* SUBACK */
        if (len < 3 || b[len - 1] >= 0x80) { errno = 0; lose(c, "subscription refused"); return; }
        became_ready(c);
        break;
    case 3: { /* PUBLISH */
        int q = (type >> 1) & 3;
        if (len < 2) break;
        int at = 2 + (b[0] << 8 | b[1]);
        uint16_t id = 0;
        if (q) { if (at + 2 > len) break; id = (uint16_t) (b[at] << 8 | b[at + 1]); at += 2; }
        if (version == 5) {     /* skip the properties */
            int plen = 0, mul = 1;
            while (at < len) { unsigned char x = b[at++]; plen += (x & 127) * mul; mul *= 128; if (!(x & 128)) break; }
            at += plen;
        }
        int64_t ts = 0;
        if (at + 8 <= len) memcpy(&ts, b + at, sizeof ts);
        if (q == 2) {
            if (c->nq2 < PEND_Q2) c->q2[c->nq2++] = (struct q2) {id, ts};
            send_ack(c, 0x50, id);  /* PUBREC; counted when PUBREL releases it */
        } else {
            if (q == 1) send_ack(c, 0x40, id);
            delivered(ts);
        }
        break;
    }
    case 6: { /* PUBREL */
        uint16_t id = len >= 2 ? (uint16_t) (b[0] << 8 | b[1]) : 0;
        for (int i = 0; i < c->nq2; i++) {
            if (c->q2[i].id == id) {
                delivered(c->q2[i].sent_ns);
                c->q2[i] = c->q2[--c->nq2];
                break;
            }
        }
        send_ack(c, 0x70, id);      /* PUBCOMP */
        break;
    }
    case 4: /* PUBACK */
    case 7: /* PUBCOMP */
        if (c->inflight > 0) c->inflight--;
        acked++;
        pump(c);
        break;
    case 5: { /* PUBREC */
        uint16_t id = len >= 2 ? (uint16_t) (b[0] << 8 | b[1]) : 0;
        send_ack(c, 0x62, id);      /* PUBREL */
        break;
    }
    case 13: /* PINGRESP */
        break;
    case 14: /* DISCONNECT from a 5.0 server */
        errno = 0;
        lose(c, "DISCONNECT from the server");
        break;
    default:
        errno = 0;
        lose(c, "unexpected packet");
    }
}

static void on_readable(struct conn *c) {
    int have = c->rest_len;
    if (have) memcpy(inbuf, c->rest, have);
    ssize_t n = read(c->fd, inbuf + have, IN_CHUNK);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) { if (n == 0) errno = 0; lose(c, n == 0 ? "closed by the broker" : "read"); return; }
    int len = have + (int) n, at = 0;
    while (c->state != S_DEAD) {
        if (len - at < 2) break;
        int rem = 0, mul = 1, i = at + 1, ok = 0;
        while (i < len && i < at + 5) {
            unsigned char x = inbuf[i++];
            rem += (x & 127) * mul;
            mul *= 128;
            if (!(x & 128)) { ok = 1; break; }
        }
        if (!ok) {
            if (i >= at + 5) { errno = 0; lose(c, "malformed length"); return; }
            break;
        }
        if (rem > MAX_PACKET) { errno = 0; lose(c, "packet too large"); return; }
        if (len - i < rem) break;
        handle_packet(c, inbuf[at], inbuf + i, rem);
        at = i + rem;
    }
    if (c->state == S_DEAD) return;
    int left = len - at;
    if (left > c->rest_cap) {
        c->rest = realloc(c->rest, left);
        if (!c->rest) die("realloc");
        c->rest_cap = left;
    }
    if (left) memcpy(c->rest, inbuf + at, left);
    c->rest_len = left;
    set_events(c);
}

static void on_event(struct conn *c, uint32_t ev) {
    if (c->state == S_DEAD) return;
    if (c->state == S_TCP) {
        int err = 0;
        socklen_t el = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
        if (err) { errno = err; lose(c, "connect"); return; }
        c->state = S_CONNACK;
        send_connect(c);
        c->events = 0;
        set_events(c);
        return;
    }
    if (ev & (EPOLLERR)) { errno = 0; lose(c, "socket error"); return; }
    if (ev & EPOLLOUT) flush(c);
    if (ev & (EPOLLIN | EPOLLHUP)) on_readable(c);
}

/* ---------------------------------------------------------------------------------------------- figures */
static double percentile(double p) {
    long long n = LOAD(sh->hist_n);
    if (!n) return 0;
    long long want = (long long) (p * n), seen = 0;
    if (want >= n) want = n - 1;
    for (int i = 0; i < HIST_N; i++) {
        seen += sh->hist[i];
        if (seen > want) return (i + 0.5) * HIST_US / 1000.0;
    }
    return HIST_N * HIST_US / 1000.0;
}

static int scenario(const char *s) {
    if (!strcmp(s, "s1")) {
        n_pub = 100; n_sub = 1; qos = 0; size = 64; pub_topic = "bench/s1/%i"; sub_topic = "bench/s1/#";
    }
    else if (!strcmp(s, "s2")) { n_pub = n_sub = 50; qos = 1; size = 256; pub_topic = sub_topic = "bench/s2/%i"; }
    else if (!strcmp(s, "s3")) { n_pub = 1; n_sub = 500; qos = 0; size = 64; pub_topic = sub_topic = "bench/s3/all"; }
    else if (!strcmp(s, "s4")) { n_pub = n_sub = 20; qos = 2; size = 256; pub_topic = sub_topic = "bench/s4/%i"; }
    else if (!strcmp(s, "s5") || !strcmp(s, "probe")) { n_pub = n_sub = 0; }
    else return 0;
    inflight_cap = 1;
    return 1;
}

static void usage(void) {
    fprintf(stderr, "usage: starling-load s1|s2|s3|s4|s5|probe [-h HOST] [-p PORT] [-d WINDOW_S] [-w WARMUP_S] "
                    "[-n CONNS] [-b BROKER_PID] [-V 4|5] [-x SESSION_EXPIRY_S] [-k KEEPALIVE_S] [-y PAUSE_US] "
                    "[-m MAX_CONNECTING] [-P PUBLISHERS] [-S SUBSCRIBERS] [-q QOS] [-s BYTES] [-f INFLIGHT] "
                    "[-t SETTLE_S] [-T PRESETTLE_MAX_S] [-j 1|2] [-O SUB_PORT] [-R RATE]\n");
    exit(2);
}

static void keepalive_tick(int64_t now) {
    int64_t idle = (int64_t) keepalive * 500000000LL;   /* half the keep-alive */
    for (int i = 0; i < n_conns; i++) {
        struct conn *c = &conns[i];
        if (c->state == S_READY && keepalive > 0 && now - c->last_tx > idle) {
            unsigned char *o = reserve(c, 2);
            if (o) { o[0] = 0xC0; o[1] = 0; c->last_tx = now; }
        }
    }
}

static void reap_child(void) {
    if (child_pid > 0) {
        STORE(sh->stop, 1);
        kill(child_pid, SIGTERM);
        waitpid(child_pid, NULL, 0);
        child_pid = 0;
    }
}

int main(int argc, char **argv) {
    if (argc < 2 || !scenario(argv[1])) usage();
    scen = argv[1];
    int probe = !strcmp(scen, "probe"), idle = !strcmp(scen, "s5");
    int opt;
    optind = 2;
    while ((opt = getopt(argc, argv, "h:p:d:w:n:b:V:x:k:y:m:P:S:q:s:f:t:T:j:O:R:")) != -1) {
        switch (opt) {
        case 'h': host = optarg; break;
        case 'p': port = optarg; break;
        case 'd': window_s = atof(optarg); break;
        case 'w': warmup_s = atof(optarg); break;
        case 'n': conns_wanted = atoi(optarg); break;
        case 'b': broker_pid = atoi(optarg); break;
        case 'V': version = atoi(optarg) == 5 ? 5 : 4; break;
        case 'x': session_expiry = atol(optarg); break;
        case 'k': keepalive = atoi(optarg); break;
        case 'y': pause_us = atoi(optarg); break;
        case 'm': max_connecting = atoi(optarg) > 0 ? atoi(optarg) : 1; break;
        case 'P': n_pub = atoi(optarg); break;
        case 'S': n_sub = atoi(optarg); break;
        case 'q': qos = atoi(optarg) & 3; break;
        case 's': size = atoi(optarg) < 8 ? 8 : atoi(optarg); break;
        case 'f': inflight_cap = atoi(optarg) > 0 ? atoi(optarg) : 1; break;
        case 't': settle_s = atof(optarg); break;
        case 'T': presettle_max_s = atof(optarg); break;
        case 'j': split = atoi(optarg) >= 2; break;
        case 'O': sub_port = optarg; break;
        case 'R': rate_per_s = atof(optarg) > 0 ? atof(optarg) : 0; break;
        default: usage();
        }
    }
    if (qos > 2) usage();
    if (probe) { n_pub = 0; n_sub = 0; conns_wanted = 1; quiet = 1; }
    if (!idle && !probe) conns_wanted = 0;
    signal(SIGPIPE, SIG_IGN);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    int rc = getaddrinfo(host, port, &hints, &addr);
    if (rc) { fprintf(stderr, "starling-load: %s:%s: %s\n", host, port, gai_strerror(rc)); return 2; }
    if (sub_port) {
        rc = getaddrinfo(host, sub_port, &hints, &sub_addr);
        if (rc) { fprintf(stderr, "starling-load: %s:%s: %s\n", host, sub_port, gai_strerror(rc)); return 2; }
    }

    int total = n_pub + n_sub + conns_wanted;
    conns = calloc(total > 0 ? total : 1, sizeof *conns);
    dirty = calloc(total > 0 ? total : 1, sizeof *dirty);
    if (!conns || !dirty) die("calloc");
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (sh == MAP_FAILED) die("mmap");
    local_sub = n_sub;
    if (split && n_sub > 0 && n_pub > 0 && !idle && !probe) {
        parent_pid = getpid();
        fflush(stdout);
        child_pid = fork();
        if (child_pid < 0) die("fork");
        if (child_pid == 0) { is_child = 1; n_pub = 0; }
        else { local_sub = 0; atexit(reap_child); }
    }
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0) die("epoll_create1");

    double presettled_s = idle ? presettle() : 0;
    long rss_before = broker_pid ? rss_kb(broker_pid) : 0;
    struct cpu_mark m0, m1;
    char cpu[160] = "";
    struct epoll_event evs[MAX_EVENTS];
    t_start = now_ns();
    int64_t last_tick = t_start, t_all = 0, deadline = t_start + (int64_t) ((idle ? 300 : 120) * 1e9);
    if (idle || probe) cpu_mark(&m0);
    if (probe) deadline = t_start + 2000000000LL;

    for (;;) {
        int64_t now = now_ns();
        /* start connections: subscribers first, publishers once every subscriber is subscribed */
        while (connecting < max_connecting && launched_sub < local_sub) launch(R_SUB, launched_sub++);
        if (child_pid == 0 && !sh->subs_settled && ready_sub + failed_sub == n_sub) {
            STORE(sh->subs_ready, ready_sub);
            STORE(sh->subs_settled, 1);
        }
        if (LOAD(sh->subs_settled))
            while (connecting < max_connecting && launched_pub < n_pub) launch(R_PUB, launched_pub++);
        while (connecting < max_connecting && launched_idle < conns_wanted) launch(R_IDLE, launched_idle++);

        if (is_child) {
            if (LOAD(sh->stop) || getppid() != parent_pid) _exit(0);
        } else if (probe) {
            if (ready_idle) return 0;
            if (failed_idle || now > deadline) return 1;
        } else if (idle) {
            if (!t_all && ready_idle + failed_idle == conns_wanted) {
                t_all = now;
                cpu_mark(&m1);
                cpu_fields(&m0, &m1, cpu, sizeof cpu);
            }
            if (t_all && now - t_all >= (int64_t) (settle_s * 1e9)) break;
            if (!t_all && now > deadline) { cpu_mark(&m1); cpu_fields(&m0, &m1, cpu, sizeof cpu); break; }
        } else {
            if (!running() && n_sub + n_pub > 0 && LOAD(sh->subs_settled) && ready_pub + failed_pub == n_pub) {
                if ((n_sub > 0 && LOAD(sh->subs_ready) == 0) || ready_pub == 0) {
                    printf("RESULT gen=own scenario=%s error=connect_failed client_errors=%d\n", scen,
                           client_errors + LOAD(sh->child_errors));
                    return 1;
                }
                t_pubs_ready = now;
                t_window_open = now + (int64_t) (warmup_s * 1e9);
                t_window_close = t_window_open + (int64_t) (window_s * 1e9);
                for (int i = 0; i < n_conns; i++) pump(&conns[i]);
            }
            if (!running() && now > deadline) {
                printf("RESULT gen=own scenario=%s error=connect_timeout client_errors=%d\n", scen,
                       client_errors + LOAD(sh->child_errors));
                return 1;
            }
            if (running() && sh->window_state == 0 && now >= t_window_open) {
                STORE(sh->window_state, 1);
                w_sent = sent; w_acked = acked; w_received = LOAD(sh->received);
                cpu_mark(&m0);
            }
            if (sh->window_state == 1 && now >= t_window_close) {
                cpu_mark(&m1);
                w_sent = sent - w_sent; w_acked = acked - w_acked; w_received = LOAD(sh->received) - w_received;
                STORE(sh->window_state, 2);
                break;
            }
        }
        if (now - last_tick >= 1000000000LL) { keepalive_tick(now); last_tick = now; }
        /* QoS 0 publishers keep their queues topped up */
        if (running() && qos == 0)
            for (int k = 0; k < n_conns; k++) {
                /* with -R the budget of a pass may run out part way: start each pass at another connection */
                int i = (pump_from + k) % n_conns;
                if (conns[i].role == R_PUB && !conns[i].blocked) pump(&conns[i]);
            }
        if (n_conns > 0) pump_from = (pump_from + 1) % n_conns;
        flush_dirty();

        int busy_pubs = 0;
        if (running() && qos == 0)
            for (int i = 0; i < n_conns && !busy_pubs; i++)
                busy_pubs = conns[i].role == R_PUB && conns[i].state == S_READY && !conns[i].blocked;
        if (busy_pubs && !rate_allows()) busy_pubs = 0;
        int n = epoll_wait(ep, evs, MAX_EVENTS, busy_pubs ? 0 : rate_per_s > 0 && running() ? 1 : 10);
        if (n < 0 && errno != EINTR) die("epoll_wait");
        for (int i = 0; i < n; i++) on_event(evs[i].data.ptr, evs[i].events);
        flush_dirty();
        if (n > 0 && pause_us > 0) {
            struct timespec ts = {0, pause_us * 1000L};
            nanosleep(&ts, NULL);
        }
    }

    if (idle) {
        long rss_after = broker_pid ? rss_kb(broker_pid) : 0;
        double t = t_all ? (t_all - t_start) / 1e9 : -1;
        char ts[32];
        if (t >= 0) snprintf(ts, sizeof ts, "%.2f", t); else snprintf(ts, sizeof ts, "timeout");
        printf("RESULT gen=own scenario=s5 conns=%d/%d connect_fail=%d time_to_all_s=%s broker_rss_before_kb=%ld "
               "broker_rss_after_kb=%ld broker_bytes_per_conn=%.0f presettle_s=%.0f gen_rss_kb=%ld%s %s\n",
               ready_idle, conns_wanted, failed_idle, ts, rss_before, rss_after,
               ready_idle > 0 && broker_pid ? (rss_after - rss_before) * 1024.0 / ready_idle : 0.0,
               presettled_s, rss_kb(getpid()), "", cpu);
        return ready_idle == conns_wanted ? 0 : 1;
    }
    cpu_fields(&m0, &m1, cpu, sizeof cpu);
    double dt = (m1.at - m0.at) / 1e9;
    printf("RESULT gen=own scenario=%s pubs=%d subs=%d qos=%d size=%d inflight=%d procs=%d delivered_per_s=%.0f "
           "published_per_s=%.0f", scen, n_pub, n_sub, qos, size, inflight_cap, child_pid > 0 ? 2 : 1,
           w_received / dt, w_sent / dt);
    if (qos > 0)
        printf(" acked_per_s=%.0f latency_p50_ms=%.2f latency_p99_ms=%.2f latency_max_ms=%.2f", w_acked / dt,
               percentile(0.50), percentile(0.99), percentile(1.0));
    printf(" window_s=%.0f", window_s);
    client_errors += LOAD(sh->child_errors);
    if (client_errors) printf(" client_errors=%d", client_errors);
    printf(" %s\n", cpu);
    return 0;
}
