/*
 * bench/fanout.c - alert fan-out to N idle server-sent-event subscribers.
 *
 * One epoll loop opens N keep-alive HTTP/1.1 connections to an event
 * stream (each with its own bearer token when --tokens is given), waits
 * until every one has answered 200 and has been idle for --settle-ms, then
 * for each --pub-path sends one POST over a separate connection and records
 * the monotonic time at which each subscriber reads the `event: NAME` line.
 * A round ends when every live subscriber has the event and the publish
 * request has been answered (or at --timeout-ms). The same client drives
 * isac (GET /api/v1/stream) and nginx + nchan, so both pay the same client
 * costs on the same machine.
 *
 *   fanout --port P --sub-path PATH [--host 127.0.0.1] [--tokens FILE] [-n N]
 *          [--sub-header 'H: v']... --pub-path PATH [--pub-path PATH]...
 *          [--pub-header 'H: v']... [--pub-body STR] [--pid PID]...
 *          [--event alert] [--settle-ms 1000] [--gap-ms 300]
 *          [--timeout-ms 10000] [--connect-batch 256]
 *
 * --tokens FILE: one token per line; subscriber i sends "Authorization:
 * Bearer <line i>"; N defaults to the number of lines. --pid: a server
 * process whose memory is read from /proc before subscribing and once all
 * subscribers are idle (VmRSS and, for processes sharing memory such as
 * nginx workers, Pss). Output is one line per figure, `key=value` words:
 *
 *   subscribed n= ok= failed= ms=
 *   memory pid= rss_before_kib= rss_idle_kib= pss_before_kib= pss_idle_kib= started_s=
 *   memory total rss_before_kib= rss_idle_kib= rss_per_sub_bytes= pss_per_sub_bytes=
 *   round i= status= publish_ms= alive= reached= first_ms= p50_ms= p99_ms= max_ms=
 *         client_cpu_ms= load= at_s=
 *   memory after rss_kib= rss_per_sub_bytes= pss_kib= pss_per_sub_bytes=
 *
 * Times are from just before the publish request is written. The time of
 * a subscriber is taken right after the read() that returned its event
 * line, before parsing, so parsing one subscriber's bytes never delays the
 * time recorded for it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_HDRS 8
#define MAX_ROUNDS 64
#define MAX_PIDS 8
#define HEAD_MAX 4096
#define PUB_ID UINT32_MAX

enum { S_IDLE, S_CONNECTING, S_HEAD, S_STREAM, S_DEAD };
enum { C_SIZE, C_EXT, C_DATA, C_CRLF };

struct sub {
    int fd;
    uint8_t state;
    bool chunked;
    uint8_t cstate;
    uint8_t linelen; /* saturates: a long line never matches */
    uint32_t chunk_left;
    uint16_t hlen;
    int16_t round; /* last round whose event this subscriber read */
    char line[24]; /* the start of the current line */
    char *head;    /* response head while S_HEAD */
};

struct pub {
    int fd;
    bool done;
    int status;
    size_t len;
    char buf[1024];
    double t_done;
};

struct opts {
    const char *host, *sub_path, *tokens, *pub_body, *event;
    int port, n, npub, nsubh, npubh, npid;
    const char *pub_path[MAX_ROUNDS];
    const char *sub_hdr[MAX_HDRS], *pub_hdr[MAX_HDRS];
    int pids[MAX_PIDS];
    int settle_ms, gap_ms, timeout_ms, batch;
};

static struct opts o = {.host = "127.0.0.1",
                        .event = "alert",
                        .pub_body = "",
                        .settle_ms = 1000,
                        .gap_ms = 300,
                        .timeout_ms = 10000,
                        .batch = 256};
static struct sub *subs;
static char **tokens;
static int ep;
static struct sockaddr_in addr;
static int inflight, next_conn, n_ok, n_failed, n_alive, cur_round, reached, stray;
static double t0;
static double *t_recv; /* per subscriber, ms after t0, for the current round */
static struct pub pub;
static char rbuf[65536];

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what)
{
    perror(what);
    exit(2);
}

/* ---- options ---- */

static void usage(void)
{
    fprintf(stderr, "usage: fanout --port P --sub-path PATH [--tokens FILE] [-n N] "
                    "--pub-path PATH... [--pub-header H]... [--pub-body S] [--sub-header H]... "
                    "[--pid PID]... [--event NAME] [--settle-ms MS] [--gap-ms MS] "
                    "[--timeout-ms MS] [--connect-batch K] [--host IP]\n");
    exit(2);
}

/* A non-negative decimal option value. */
static int num(const char *v)
{
    char *end;
    long n = strtol(v, &end, 10);
    if (*v == '\0' || *end != '\0' || n < 0 || n > 100000000)
        usage();
    return (int)n;
}

static void add_str(const char **arr, int *n, int max, const char *v)
{
    if (*n >= max)
        usage();
    arr[(*n)++] = v;
}

static void parse_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            usage();
        i++;
        if (!strcmp(a, "--host"))
            o.host = v;
        else if (!strcmp(a, "--port"))
            o.port = num(v);
        else if (!strcmp(a, "--sub-path"))
            o.sub_path = v;
        else if (!strcmp(a, "--tokens"))
            o.tokens = v;
        else if (!strcmp(a, "-n"))
            o.n = num(v);
        else if (!strcmp(a, "--sub-header"))
            add_str(o.sub_hdr, &o.nsubh, MAX_HDRS, v);
        else if (!strcmp(a, "--pub-path"))
            add_str(o.pub_path, &o.npub, MAX_ROUNDS, v);
        else if (!strcmp(a, "--pub-header"))
            add_str(o.pub_hdr, &o.npubh, MAX_HDRS, v);
        else if (!strcmp(a, "--pub-body"))
            o.pub_body = v;
        else if (!strcmp(a, "--event"))
            o.event = v;
        else if (!strcmp(a, "--pid") && o.npid < MAX_PIDS)
            o.pids[o.npid++] = num(v);
        else if (!strcmp(a, "--settle-ms"))
            o.settle_ms = num(v);
        else if (!strcmp(a, "--gap-ms"))
            o.gap_ms = num(v);
        else if (!strcmp(a, "--timeout-ms"))
            o.timeout_ms = num(v);
        else if (!strcmp(a, "--connect-batch"))
            o.batch = num(v);
        else
            usage();
    }
    if (o.port <= 0 || !o.sub_path || o.npub == 0 || o.batch <= 0)
        usage();
}

/* One token per line; N = number of lines unless -n is smaller. */
static void load_tokens(void)
{
    FILE *f = fopen(o.tokens, "r");
    if (!f)
        die(o.tokens);
    size_t cap = 1024, n = 0;
    tokens = malloc(cap * sizeof(*tokens));
    char line[256];
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\r\n")] = '\0';
        if (!line[0])
            continue;
        if (n == cap)
            tokens = realloc(tokens, (cap *= 2) * sizeof(*tokens));
        tokens[n++] = strdup(line);
    }
    fclose(f);
    if (o.n == 0 || o.n > (int)n)
        o.n = (int)n;
}

/* The benchmark needs N + a few descriptors: raise this process's soft limit only. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl))
        die("getrlimit");
    rlim_t want = (rlim_t)o.n + 64;
    if (rl.rlim_cur >= want)
        return;
    if (rl.rlim_max < want) {
        fprintf(stderr, "fanout: %d subscribers need %lu descriptors; the hard limit is %lu\n", o.n,
                (unsigned long)want, (unsigned long)rl.rlim_max);
        exit(2);
    }
    rl.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &rl))
        die("setrlimit");
}

/* The 1-minute load average: the machine is shared, so each figure carries it. */
static double loadavg(void)
{
    double l = -1;
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = -1;
        fclose(f);
    }
    return l;
}

/* ---- memory of the server ---- */

/* When pid started, in CLOCK_MONOTONIC seconds (field 22 of /proc/PID/stat); -1 if unknown. */
static double proc_started_s(int pid)
{
    char path[64], line[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    double t = -1;
    if (!f)
        return -1;
    if (fgets(line, sizeof(line), f)) {
        const char *p = strrchr(line, ')'); /* the command name may hold spaces */
        unsigned long long ticks;
        if (p && sscanf(p + 2,
                        "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d "
                        "%*d %*d %*d %llu",
                        &ticks) == 1)
            t = (double)ticks / (double)sysconf(_SC_CLK_TCK);
    }
    fclose(f);
    return t;
}

static long proc_kib(int pid, const char *file, const char *key)
{
    char path[64], line[256];
    snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
    FILE *f = fopen(path, "r");
    long v = -1;
    if (!f)
        return -1;
    size_t kl = strlen(key);
    while (fgets(line, sizeof(line), f))
        if (!strncmp(line, key, kl)) {
            v = strtol(line + kl, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

struct mem {
    long rss[MAX_PIDS], pss[MAX_PIDS], rss_sum, pss_sum;
};

static void mem_read(struct mem *m)
{
    memset(m, 0, sizeof(*m));
    for (int i = 0; i < o.npid; i++) {
        m->rss[i] = proc_kib(o.pids[i], "status", "VmRSS:");
        m->pss[i] = proc_kib(o.pids[i], "smaps_rollup", "Pss:");
        m->rss_sum += m->rss[i];
        m->pss_sum += m->pss[i];
    }
}

static void mem_print(const struct mem *before, const struct mem *idle)
{
    if (o.npid == 0)
        return;
    for (int i = 0; i < o.npid; i++)
        printf("memory pid=%d rss_before_kib=%ld rss_idle_kib=%ld pss_before_kib=%ld "
               "pss_idle_kib=%ld started_s=%.2f\n",
               o.pids[i], before->rss[i], idle->rss[i], before->pss[i], idle->pss[i],
               proc_started_s(o.pids[i]));
    int n = n_alive > 0 ? n_alive : 1;
    printf("memory total rss_before_kib=%ld rss_idle_kib=%ld rss_per_sub_bytes=%.0f "
           "pss_before_kib=%ld pss_idle_kib=%ld pss_per_sub_bytes=%.0f load=%.2f\n",
           before->rss_sum, idle->rss_sum, (idle->rss_sum - before->rss_sum) * 1024.0 / n,
           before->pss_sum, idle->pss_sum, (idle->pss_sum - before->pss_sum) * 1024.0 / n,
           loadavg());
}

/* ---- subscribers ---- */

static void sub_close(struct sub *s, bool failed)
{
    if (s->state == S_CONNECTING || s->state == S_HEAD)
        inflight--;
    if (s->state == S_STREAM)
        n_alive--;
    if (failed && s->state != S_STREAM)
        n_failed++;
    free(s->head);
    s->head = NULL;
    if (s->fd >= 0)
        close(s->fd);
    s->fd = -1;
    s->state = S_DEAD;
}

static void sub_start(int i)
{
    struct sub *s = &subs[i];
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s->fd < 0)
        die("socket");
    int one = 1;
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    s->state = S_CONNECTING;
    inflight++;
    if (connect(s->fd, (struct sockaddr *)&addr, sizeof(addr)) && errno != EINPROGRESS) {
        perror("fanout: connect");
        sub_close(s, true);
        return;
    }
    struct epoll_event ev = {.events = EPOLLOUT, .data.u32 = (uint32_t)i};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, s->fd, &ev))
        die("epoll_ctl");
}

static void start_more(void)
{
    while (inflight < o.batch && next_conn < o.n)
        sub_start(next_conn++);
}

static size_t build_get(char *out, size_t cap, int i)
{
    int n = snprintf(out, cap, "GET %s HTTP/1.1\r\nHost: %s:%d\r\nAccept: text/event-stream\r\n",
                     o.sub_path, o.host, o.port);
    if (tokens)
        n += snprintf(out + n, cap - (size_t)n, "Authorization: Bearer %s\r\n", tokens[i]);
    for (int h = 0; h < o.nsubh; h++)
        n += snprintf(out + n, cap - (size_t)n, "%s\r\n", o.sub_hdr[h]);
    n += snprintf(out + n, cap - (size_t)n, "\r\n");
    return (size_t)n;
}

static void sub_send(int i)
{
    struct sub *s = &subs[i];
    int err = 0;
    socklen_t el = sizeof(err);
    getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el);
    if (err) {
        if (n_failed == 0)
            fprintf(stderr, "fanout: connect: %s\n", strerror(err));
        sub_close(s, true);
        return;
    }
    char req[2048];
    size_t len = build_get(req, sizeof(req), i);
    if (write(s->fd, req, len) != (ssize_t)len) { /* a fresh socket takes 2 KB at once */
        sub_close(s, true);
        return;
    }
    s->state = S_HEAD;
    s->head = malloc(HEAD_MAX);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = (uint32_t)i};
    epoll_ctl(ep, EPOLL_CTL_MOD, s->fd, &ev);
}

/* Did this line name our event? ("event: alert" or "event:alert", CR stripped.) */
static bool line_is_event(const struct sub *s)
{
    size_t n = s->linelen;
    if (n > sizeof(s->line))
        return false;
    if (n && s->line[n - 1] == '\r')
        n--;
    size_t el = strlen(o.event);
    const char *p = s->line;
    if (n < 6 || memcmp(p, "event:", 6))
        return false;
    p += 6;
    n -= 6;
    if (n && *p == ' ') {
        p++;
        n--;
    }
    return n == el && !memcmp(p, o.event, el);
}

/* Event-stream bytes: jump from line to line; only line starts are kept. */
static bool sse_feed(struct sub *s, const char *p, size_t n)
{
    bool hit = false;
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t take = nl ? (size_t)(nl - p) : n;
        if (s->linelen < sizeof(s->line)) {
            size_t room = sizeof(s->line) - s->linelen, c = take < room ? take : room;
            memcpy(s->line + s->linelen, p, c);
        }
        size_t nl2 = s->linelen + take;
        s->linelen = (uint8_t)(nl2 > 255 ? 255 : nl2);
        if (!nl)
            break;
        hit |= line_is_event(s);
        s->linelen = 0;
        p = nl + 1;
        n -= take + 1;
    }
    return hit;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Chunked transfer coding: pass the chunk data to sse_feed(). */
static bool body_feed(struct sub *s, const char *p, size_t n)
{
    if (!s->chunked)
        return sse_feed(s, p, n);
    bool hit = false;
    while (n) {
        if (s->cstate == C_DATA) {
            size_t c = n < s->chunk_left ? n : s->chunk_left;
            hit |= sse_feed(s, p, c);
            p += c;
            n -= c;
            s->chunk_left -= (uint32_t)c;
            if (s->chunk_left == 0)
                s->cstate = C_CRLF;
            continue;
        }
        char ch = *p++;
        n--;
        int h = hexval(ch);
        if (s->cstate == C_SIZE && h >= 0)
            s->chunk_left = s->chunk_left * 16 + (uint32_t)h;
        else if (s->cstate == C_SIZE)
            s->cstate = ch == '\n' ? (s->chunk_left ? C_DATA : C_CRLF) : C_EXT;
        else if (ch == '\n' && s->cstate == C_EXT)
            s->cstate = s->chunk_left ? C_DATA : C_CRLF;
        else if (ch == '\n') { /* C_CRLF: the next size line */
            s->cstate = C_SIZE;
            s->chunk_left = 0;
        }
    }
    return hit;
}

static void record_event(int i, double t)
{
    struct sub *s = &subs[i];
    if (cur_round > 0 && s->round < cur_round) {
        s->round = (int16_t)cur_round;
        t_recv[reached++] = t - t0;
    } else
        stray++;
}

/* The response head: 200 and the transfer coding, then body bytes. */
static void head_feed(int i, const char *p, size_t n, double t)
{
    struct sub *s = &subs[i];
    size_t c = n < (size_t)(HEAD_MAX - 1 - s->hlen) ? n : (size_t)(HEAD_MAX - 1 - s->hlen);
    memcpy(s->head + s->hlen, p, c);
    s->hlen = (uint16_t)(s->hlen + c);
    s->head[s->hlen] = '\0';
    char *end = strstr(s->head, "\r\n\r\n");
    if (!end) {
        if (s->hlen >= HEAD_MAX - 1)
            sub_close(s, true);
        return;
    }
    int status = 0;
    sscanf(s->head, "HTTP/1.%*d %d", &status);
    if (status != 200) {
        if (n_failed == 0)
            fprintf(stderr, "fanout: subscriber %d: %.*s\n", i, (int)strcspn(s->head, "\r"),
                    s->head);
        sub_close(s, true);
        return;
    }
    size_t used = (size_t)(end + 4 - s->head) - (s->hlen - c); /* bytes of p in the head */
    end[2] = '\0';
    char *te = strcasestr(s->head, "\ntransfer-encoding:");
    if (te) {
        te[strcspn(te + 1, "\n") + 1] = '\0';
        s->chunked = strcasestr(te, "chunked") != NULL;
    }
    free(s->head);
    s->head = NULL;
    s->state = S_STREAM;
    inflight--;
    n_ok++;
    n_alive++;
    if (used < n && body_feed(s, p + used, n - used))
        record_event(i, t);
}

static void sub_readable(int i)
{
    struct sub *s = &subs[i];
    ssize_t r = read(s->fd, rbuf, sizeof(rbuf));
    double t = now_ms();
    if (r <= 0) {
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        sub_close(s, true);
        return;
    }
    if (s->state == S_HEAD)
        head_feed(i, rbuf, (size_t)r, t);
    else if (body_feed(s, rbuf, (size_t)r))
        record_event(i, t);
}

/* ---- the publisher ---- */

static void pub_start(int round)
{
    memset(&pub, 0, sizeof(pub));
    pub.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (pub.fd < 0 || connect(pub.fd, (struct sockaddr *)&addr, sizeof(addr)))
        die("fanout: publisher connect");
    int one = 1;
    setsockopt(pub.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    char req[8192];
    size_t bl = strlen(o.pub_body);
    int n = snprintf(req, sizeof(req), "POST %s HTTP/1.1\r\nHost: %s:%d\r\n", o.pub_path[round],
                     o.host, o.port);
    for (int h = 0; h < o.npubh; h++)
        n += snprintf(req + n, sizeof(req) - (size_t)n, "%s\r\n", o.pub_hdr[h]);
    n += snprintf(req + n, sizeof(req) - (size_t)n,
                  "Content-Length: %zu\r\nConnection: close\r\n\r\n%s", bl, o.pub_body);
    fcntl(pub.fd, F_SETFL, O_NONBLOCK);
    struct epoll_event ev = {.events = EPOLLIN, .data.u32 = PUB_ID};
    epoll_ctl(ep, EPOLL_CTL_ADD, pub.fd, &ev);
    t0 = now_ms();
    if (write(pub.fd, req, (size_t)n) != n)
        die("fanout: publish write");
}

static void pub_readable(void)
{
    char b[4096];
    ssize_t r = read(pub.fd, b, sizeof(b));
    if (r < 0 && errno == EAGAIN)
        return;
    if (r > 0) {
        size_t c =
            (size_t)r < sizeof(pub.buf) - 1 - pub.len ? (size_t)r : sizeof(pub.buf) - 1 - pub.len;
        memcpy(pub.buf + pub.len, b, c);
        pub.len += c;
        return;
    }
    /* Connection: close - the answer is complete at EOF. */
    pub.t_done = now_ms() - t0;
    pub.done = true;
    sscanf(pub.buf, "HTTP/1.%*d %d", &pub.status);
    if (pub.status < 200 || pub.status > 299)
        fprintf(stderr, "fanout: publish answered: %.300s\n", pub.buf);
    close(pub.fd);
    pub.fd = -1;
}

/* ---- the loop ---- */

/* Run the loop until done() is true or deadline (ms, monotonic) passes. */
static void loop_until(bool (*done)(void), double deadline)
{
    static struct epoll_event evs[1024];
    while (!(done && done()) && now_ms() < deadline) {
        int wait = (int)(deadline - now_ms()) + 1;
        int k = epoll_wait(ep, evs, 1024, wait > 50 ? 50 : wait);
        if (k < 0 && errno != EINTR)
            die("epoll_wait");
        for (int j = 0; j < k; j++) {
            uint32_t id = evs[j].data.u32;
            if (id == PUB_ID)
                pub_readable();
            else if (subs[id].state == S_CONNECTING)
                sub_send((int)id);
            else if (subs[id].state == S_HEAD || subs[id].state == S_STREAM)
                sub_readable((int)id);
        }
        start_more();
    }
}

static bool all_subscribed(void)
{
    return next_conn == o.n && inflight == 0;
}
static bool round_done(void)
{
    return reached >= n_alive && pub.done;
}

/* CPU time of this client (ms): near the round's time means the client is the bottleneck. */
static double cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted v[0..n-1]. */
static double pct(const double *v, int n, double p)
{
    int k = (int)(p * n + 0.999999) - 1;
    return v[k < 0 ? 0 : k >= n ? n - 1 : k];
}

static void run_round(int r)
{
    cur_round = r + 1;
    reached = 0;
    int alive = n_alive;
    double c0 = cpu_ms();
    pub_start(r);
    loop_until(round_done, t0 + o.timeout_ms);
    if (!pub.done)
        fprintf(stderr, "fanout: round %d: no answer to the publish request\n", cur_round);
    qsort(t_recv, (size_t)reached, sizeof(double), cmp_double);
    printf("round i=%d status=%d publish_ms=%.2f alive=%d reached=%d", cur_round, pub.status,
           pub.done ? pub.t_done : -1.0, alive, reached);
    if (reached > 0)
        printf(" first_ms=%.2f p50_ms=%.2f p99_ms=%.2f max_ms=%.2f", t_recv[0],
               pct(t_recv, reached, 0.50), pct(t_recv, reached, 0.99), t_recv[reached - 1]);
    /* at_s: CLOCK_MONOTONIC of the publish, to line the round up with a profile or a log */
    printf(" client_cpu_ms=%.1f load=%.2f at_s=%.3f\n", cpu_ms() - c0, loadavg(), t0 / 1e3);
    fflush(stdout);
    if (pub.fd >= 0)
        close(pub.fd);
    pub.fd = -1;
    cur_round = 0;
    loop_until(NULL, now_ms() + o.gap_ms); /* late events of this round count as stray */
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    if (o.tokens)
        load_tokens();
    if (o.n <= 0)
        usage();
    raise_nofile();
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)o.port);
    if (inet_pton(AF_INET, o.host, &addr.sin_addr) != 1)
        usage();
    subs = calloc((size_t)o.n, sizeof(*subs));
    t_recv = calloc((size_t)o.n, sizeof(*t_recv));
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0 || !subs || !t_recv)
        die("fanout: setup");
    for (int i = 0; i < o.n; i++)
        subs[i].fd = -1;

    struct mem before, idle;
    mem_read(&before);
    double ts = now_ms();
    loop_until(all_subscribed, ts + 300000.0);
    printf("subscribed n=%d ok=%d failed=%d ms=%.1f\n", o.n, n_ok, n_failed, now_ms() - ts);
    fflush(stdout);
    loop_until(NULL, now_ms() + o.settle_ms);
    mem_read(&idle);
    mem_print(&before, &idle);
    for (int r = 0; r < o.npub && n_alive > 0; r++)
        run_round(r);
    if (o.npid > 0) { /* what the subscribers hold once events have gone through */
        struct mem after;
        mem_read(&after);
        int n = n_alive > 0 ? n_alive : 1;
        printf(
            "memory after rss_kib=%ld rss_per_sub_bytes=%.0f pss_kib=%ld pss_per_sub_bytes=%.0f\n",
            after.rss_sum, (after.rss_sum - before.rss_sum) * 1024.0 / n, after.pss_sum,
            (after.pss_sum - before.pss_sum) * 1024.0 / n);
    }
    if (stray)
        printf("stray events=%d (outside a round)\n", stray);
    printf("closed during the run=%d\n", n_ok - n_alive);
    return n_ok == o.n ? 0 : 1;
}
