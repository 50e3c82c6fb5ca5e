/*
 * bench/ingest.c - sustained report submission over HTTP.
 *
 * N concurrent clients (one keep-alive connection each, driven by one
 * epoll loop over plain sockets, like wrk: the load generator shares the
 * machine's cores with the daemon, so it should cost little) POST reports
 * of about 2 KB with 10 observables to /api/v1/reports for a given time.
 * isac answers 201 only after the report is durably committed, so every
 * 201 is an acknowledged report: its id is appended to --acked FILE.
 * Prints reports/s and latency percentiles; with --pid, also the daemon's
 * CPU time per acknowledged report (user + system, from /proc).
 *
 *   ingest --url URL --token T [--clients 64] [--seconds 10] [--acked FILE]
 *   ingest --url URL --token T --verify FILE
 *
 * --verify reads the ids of a previous run (e.g. one during which the
 * server was killed with -9 and restarted) and checks that every
 * acknowledged report is there; it prints the number missing and exits 1
 * if any is.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

/* --verify reads each report back with libcurl (not timed). */
struct client {
    char resp[8192];
    size_t resp_len;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    struct client *c = ud;
    size_t len = size * n;
    if (c->resp_len + len < sizeof(c->resp)) {
        memcpy(c->resp + c->resp_len, p, len);
        c->resp_len += len;
    }
    return len;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* A realistic first report: ~2 KB, 10 observables, Japanese and English text. */
static void make_body(char *out, size_t n, long seq)
{
    snprintf(out, n,
             "{\"event_type\":\"malware\",\"title\":\"Office PCs locked by ransomware #%ld "
             "事務所PCがランサムウェアでロック\",\"sectors\":[\"electricity\"],"
             "\"severity\":{\"continuity\":2,\"safety\":0,\"trust\":1},"
             "\"causes\":[{\"code\":\"intentional\",\"detail\":\"worm spreading over SMBv1 "
             "ワームがSMBv1で拡散\"},{\"code\":\"accidental\",\"detail\":\"March patch not "
             "applied 3月のパッチ未適用\"}],\"occurred_at\":\"2026-05-12T18:10:00+09:00\","
             "\"detected_at\":\"2026-05-12T18:30:00+09:00\",\"basis\":\"serious\","
             "\"service\":\"back-office systems\",\"description\":\"On Friday evening several "
             "office PCs showed a ransom note and their files were encrypted. The worm spread "
             "to unpatched machines on the same segment. Operational technology networks are "
             "separated and unaffected so far. 金曜夕方、複数の事務所PCに身代金要求画面が表示され"
             "ファイルが暗号化された。同一セグメントの未適用端末に感染が拡大。制御系ネットワークは分離"
             "されており現時点で影響なし。We are isolating the segment and restoring from "
             "backups; more detail will follow in an update.\","
             "\"observables\":["
             "{\"type\":\"ipv4\",\"value\":\"203.0.113.%ld\",\"role\":\"attacker\"},"
             "{\"type\":\"ipv4\",\"value\":\"198.51.100.7\",\"role\":\"attacker\"},"
             "{\"type\":\"domain\",\"value\":\"iuqerfsodp9ifjaposdfjhgosurijfaewrwergwea.com\","
             "\"role\":\"attacker\"},"
             "{\"type\":\"sha256\",\"value\":\"ed01ebfbc9eb5bbea545af4d01bf5f1071661840480439c6e"
             "5babe8e080e41aa\",\"role\":\"attacker\"},"
             "{\"type\":\"md5\",\"value\":\"84c82835a5d21bbcf75a61706d8ab549\",\"role\":"
             "\"attacker\"},"
             "{\"type\":\"file\",\"value\":\"tasksche.exe\",\"role\":\"attacker\"},"
             "{\"type\":\"cve\",\"value\":\"CVE-2017-0144\",\"role\":\"other\"},"
             "{\"type\":\"attack_technique\",\"value\":\"T1486\",\"role\":\"other\"},"
             "{\"type\":\"malware\",\"value\":\"WannaCry\",\"role\":\"attacker\"},"
             "{\"type\":\"url\",\"value\":\"http://iuqerfsodp9ifjaposdfjhgosurijfaewrwergwea.com/"
             "\",\"role\":\"attacker\"}]}",
             seq, seq % 250 + 1);
}

static int verify(const char *url, const char *token, const char *file)
{
    FILE *f = fopen(file, "r");
    if (!f) {
        perror(file);
        return 2;
    }
    char auth[512], line[128], full[1024];
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    struct curl_slist *hdrs = curl_slist_append(NULL, auth);
    CURL *h = curl_easy_init();
    long total = 0, missing = 0;
    while (fgets(line, sizeof(line), f)) {
        line[strcspn(line, "\n")] = '\0';
        if (!*line)
            continue;
        snprintf(full, sizeof(full), "%s/api/v1/reports/%s", url, line);
        struct client c = {0};
        curl_easy_setopt(h, CURLOPT_URL, full);
        curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &c);
        long status = 0;
        if (curl_easy_perform(h) == CURLE_OK)
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        total++;
        if (status != 200) {
            missing++;
            fprintf(stderr, "missing: %s (HTTP %ld)\n", line, status);
        }
    }
    fclose(f);
    curl_easy_cleanup(h);
    curl_slist_free_all(hdrs);
    printf("verify: %ld acknowledged reports checked, %ld missing\n", total, missing);
    return missing ? 1 : 0;
}

/* ---- the load: one epoll loop, one keep-alive connection per client ---- */

struct conn {
    int fd;
    char req[6144];        /* request head + body */
    size_t req_len, sent;
    char resp[16384];
    size_t resp_len;
    double t0;             /* when the request was started */
    double retry_at;       /* reconnect no sooner (after a failure), 0: connected */
};

static struct sockaddr_in server;
static char host_hdr[300], auth_hdr[600];
static long seq, body_bytes;

/* "http://HOST:PORT" → server (IPv4 literal or localhost). */
static int parse_url(const char *url)
{
    char host[256];
    int port = 80;
    if (sscanf(url, "http://%255[^:/]:%d", host, &port) < 1)
        return -1;
    if (!strcmp(host, "localhost"))
        strcpy(host, "127.0.0.1");
    memset(&server, 0, sizeof(server));
    server.sin_family = AF_INET;
    server.sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, host, &server.sin_addr) != 1)
        return -1;
    snprintf(host_hdr, sizeof(host_hdr), "%s:%d", host, port);
    return 0;
}

static void next_request(struct conn *c, double t)
{
    char body[4096];
    make_body(body, sizeof(body), seq++);
    size_t n = strlen(body);
    body_bytes += (long)n;
    int k = snprintf(c->req, sizeof(c->req),
                     "POST /api/v1/reports HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\n"
                     "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                     host_hdr, auth_hdr, n);
    memcpy(c->req + k, body, n);
    c->req_len = (size_t)k + n;
    c->sent = 0;
    c->resp_len = 0;
    c->t0 = t;
}

static int connect_one(int ep, struct conn *c, int i)
{
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(c->fd, (struct sockaddr *)&server, sizeof(server)) != 0 && errno != EINPROGRESS) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLET, .data.u32 = (uint32_t)i};
    epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev);
    return 0;
}

/* A complete response in c->resp: its length, 0 if not yet, -1 if malformed. */
static long response_done(const struct conn *c, int *status)
{
    const char *end = memmem(c->resp, c->resp_len, "\r\n\r\n", 4);
    if (!end)
        return c->resp_len >= sizeof(c->resp) ? -1 : 0;
    if (sscanf(c->resp, "HTTP/1.%*d %d", status) != 1)
        return -1;
    long len = 0;
    for (const char *p = c->resp; p < end; p++)
        if ((*p == '\n') && !strncasecmp(p + 1, "content-length:", 15)) {
            len = atol(p + 16);
            break;
        }
    long total = (long)(end + 4 - c->resp) + len;
    if (total > (long)sizeof(c->resp))
        return -1;
    return (long)c->resp_len >= total ? total : 0;
}

static double cpu_s(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static int load(const char *url, const char *token, int clients, double seconds,
                const char *acked_path, long pid)
{
    if (parse_url(url) != 0) {
        fprintf(stderr, "ingest: --url must be http://IPv4:PORT\n");
        return 2;
    }
    snprintf(auth_hdr, sizeof(auth_hdr), "%s", token);
    FILE *acked = acked_path ? fopen(acked_path, "w") : NULL;
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct conn *cs = calloc((size_t)clients, sizeof(*cs));
    size_t cap = 1 << 20, nlat = 0;
    double *lat = malloc(cap * sizeof(double));
    long ok = 0, failed = 0;
    double cpu0 = pid ? cpu_s(pid) : 0;
    double start = now_s(), end = start + seconds;
    int active = clients;
    for (int i = 0; i < clients; i++) {
        next_request(&cs[i], start);
        if (connect_one(ep, &cs[i], i) != 0)
            cs[i].retry_at = start + 0.01;
    }
    struct epoll_event evs[256];
    while (active > 0) {
        int k = epoll_wait(ep, evs, 256, 5);
        double t = now_s();
        for (int e = 0; e < k; e++) {
            struct conn *c = &cs[evs[e].data.u32];
            if (c->fd < 0)
                continue;
            bool broken = (evs[e].events & (EPOLLERR | EPOLLHUP)) != 0;
            while (!broken && c->sent < c->req_len) {
                ssize_t w = send(c->fd, c->req + c->sent, c->req_len - c->sent, MSG_NOSIGNAL);
                if (w < 0) {
                    broken = errno != EAGAIN && errno != EWOULDBLOCK;
                    break;
                }
                c->sent += (size_t)w;
            }
            while (!broken) {
                ssize_t r = recv(c->fd, c->resp + c->resp_len, sizeof(c->resp) - c->resp_len, 0);
                if (r < 0) {
                    broken = errno != EAGAIN && errno != EWOULDBLOCK;
                    break;
                }
                if (r == 0) {
                    broken = true;
                    break;
                }
                c->resp_len += (size_t)r;
                int status = 0;
                long total = response_done(c, &status);
                if (total < 0) {
                    broken = true;
                    break;
                }
                if (total == 0)
                    continue;
                if (status == 201) {
                    ok++;
                    if (nlat == cap)
                        lat = realloc(lat, (cap *= 2) * sizeof(double));
                    lat[nlat++] = t - c->t0;
                    /* the answer starts {"id":"<uuid>" */
                    const char *body = memmem(c->resp, c->resp_len, "\r\n\r\n", 4) + 4;
                    if (acked && !strncmp(body, "{\"id\":\"", 7))
                        fprintf(acked, "%.36s\n", body + 7);
                } else {
                    failed++;
                }
                if (t >= end) {
                    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                    close(c->fd);
                    c->fd = -1;
                    active--;
                    break;
                }
                next_request(c, t);
                ssize_t w = send(c->fd, c->req, c->req_len, MSG_NOSIGNAL);
                if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
                    broken = true;
                    break;
                }
                c->sent = w > 0 ? (size_t)w : 0;
            }
            if (broken) { /* the request failed: reconnect after a pause (a restarting daemon) */
                failed++;
                epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
                close(c->fd);
                c->fd = -1;
                if (t >= end) {
                    active--;
                } else {
                    next_request(c, t);
                    c->retry_at = t + 0.01;
                }
            }
        }
        for (int i = 0; i < clients; i++) {
            struct conn *c = &cs[i];
            if (c->fd >= 0 || c->retry_at == 0 || t < c->retry_at)
                continue;
            if (t >= end) {
                c->retry_at = 0;
                active--;
            } else if (connect_one(ep, c, i) == 0) {
                c->retry_at = 0;
                c->t0 = t;
            } else {
                failed++;
                c->retry_at = t + 0.01;
            }
        }
    }
    double elapsed = now_s() - start;
    double cpu1 = pid ? cpu_s(pid) : 0;
    if (acked) {
        fflush(acked);
        fclose(acked);
    }
    qsort(lat, nlat, sizeof(double), cmp_double);
    double p50 = nlat ? lat[nlat / 2] * 1000 : 0, p99 = nlat ? lat[(size_t)(nlat * 0.99)] * 1000 : 0;
    double max = nlat ? lat[nlat - 1] * 1000 : 0;
    printf("ingest: %d clients, %.1f s: %ld acknowledged (%.0f reports/s), %ld failed; "
           "latency p50 %.2f ms, p99 %.2f ms, max %.2f ms; mean body %ld bytes",
           clients, elapsed, ok, ok / elapsed, failed, p50, p99, max,
           seq ? body_bytes / seq : 0);
    if (pid && cpu0 >= 0 && cpu1 >= 0 && ok)
        printf("; daemon CPU %.0f us per report", (cpu1 - cpu0) * 1e6 / (double)ok);
    printf("\n");
    close(ep);
    free(cs);
    free(lat);
    return 0;
}

int main(int argc, char **argv)
{
    const char *url = NULL, *token = NULL, *acked_path = NULL, *verify_path = NULL,
               *pid_arg = NULL;
    int clients = 64;
    double seconds = 10;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--url"))
            url = argv[i + 1];
        else if (!strcmp(argv[i], "--token"))
            token = argv[i + 1];
        else if (!strcmp(argv[i], "--clients"))
            clients = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--seconds"))
            seconds = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--acked"))
            acked_path = argv[i + 1];
        else if (!strcmp(argv[i], "--verify"))
            verify_path = argv[i + 1];
        else if (!strcmp(argv[i], "--pid"))
            pid_arg = argv[i + 1];
    }
    if (!url || !token || clients < 1 || clients > 10000) {
        fprintf(stderr, "usage: ingest --url URL --token T [--clients N] [--seconds S] "
                        "[--acked FILE] [--pid DAEMON_PID] | --verify FILE\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    if (verify_path)
        return verify(url, token, verify_path);

    long pid = pid_arg ? atol(pid_arg) : 0;
    int rc = load(url, token, clients, seconds, acked_path, pid);
    curl_global_cleanup();
    return rc;
}
