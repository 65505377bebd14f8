/*
 * The live bench's WebSocket clients in one native process (RFC 6455, the client side), for `WS_CLIENT=native`:
 * the same clients as bench/ws-client.ts — connect, upgrade, subscribe by URL, read every server frame, note each
 * delta's position and when it arrived — at a fraction of the CPU per read. The clients stand in for browsers on
 * other machines but share this box's two cores with the server; the less CPU they take, the less they disturb what
 * is measured. Built by scripts/setup.sh into build/bench/ws-clients; driven by a bench/live.ts client
 * process over stdin/stdout, one command per line:
 *
 *   open COUNT FIRST PATH HOST:PORT...  opens COUNT clients, client k (counted over every open) to the
 *                                       (FIRST + k)th address, round robin; answers "opened N CPU_MS" once every
 *                                       one has had the server's hello or 30 s have passed (N: how many had it)
 *   count                               answers "count DELIVERIES"
 *   dump FILE                           writes each delivery as (int32 client, int32 position, int64 µs arrived,
 *                                       CLOCK_MONOTONIC: Node's process.hrtime) and answers "dumped N CPU_MS"
 *   close                               sends every client's close frame, waits (1 s at most) for the server to end
 *                                       them, forgets them and their deliveries, answers "closed"
 *
 * Text and binary messages arrive whole (a fragmented message is an error: weft's server never fragments); pings
 * are answered with pongs; a close frame is answered. Client frames are masked, as the protocol requires.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* the key is the RFC's example: a nonce for proxies, nothing the server checks beyond its form */
#define KEY "dGhlIHNhbXBsZSBub25jZQ=="
#define ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
#define STDIN_TAG UINT64_MAX

enum state { UPGRADING, OPEN, CLOSING, CLOSED };

typedef struct {
  int fd;
  enum state state;
  int greeted;
  uint8_t *pending; /* an incomplete frame (or upgrade answer) from the last read */
  size_t pendingLength;
} client;

static client *clients;
static size_t clientCount, clientCapacity;
static int32_t *recClient, *recPosition;
static int64_t *recAt;
static size_t records, recordCapacity;
static int epfd;
static uint8_t readBuffer[256 * 1024];

static void die(const char *what) {
  fprintf(stderr, "ws-clients: %s: %s\n", what, strerror(errno));
  exit(1);
}

static int64_t nowUs(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

static long cpuMs(void) {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1000L + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1000;
}

static void record(int32_t c, int32_t position, int64_t at) {
  if (records == recordCapacity) {
    recordCapacity = recordCapacity ? recordCapacity * 2 : 1 << 20;
    recClient = realloc(recClient, recordCapacity * sizeof *recClient);
    recPosition = realloc(recPosition, recordCapacity * sizeof *recPosition);
    recAt = realloc(recAt, recordCapacity * sizeof *recAt);
    if (!recClient || !recPosition || !recAt) die("out of memory");
  }
  recClient[records] = c;
  recPosition[records] = position;
  recAt[records++] = at;
}

static void finish(client *c) {
  if (c->state == CLOSED) return;
  epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  c->state = CLOSED;
  free(c->pending);
  c->pending = NULL;
  c->pendingLength = 0;
}

/* A masked client frame (control frames only: at most 125 bytes). */
static void sendFrame(client *c, int opcode, const uint8_t *payload, size_t length) {
  uint8_t frame[6 + 125];
  if (length > 125) length = 125;
  uint32_t mask = (uint32_t)random();
  frame[0] = 0x80 | opcode;
  frame[1] = 0x80 | length;
  memcpy(frame + 2, &mask, 4);
  for (size_t i = 0; i < length; i++) frame[6 + i] = payload[i] ^ frame[2 + (i & 3)];
  if (send(c->fd, frame, 6 + length, MSG_NOSIGNAL) < 0 && errno != EAGAIN) finish(c);
}

static int startsWith(const uint8_t *b, size_t n, const char *prefix) {
  size_t k = strlen(prefix);
  return n >= k && memcmp(b, prefix, k) == 0;
}

static void message(client *c, const uint8_t *p, size_t n, int64_t at) {
  if (startsWith(p, n, "{\"type\":\"hello\"")) {
    c->greeted = 1;
    return;
  }
  if (!startsWith(p, n, "{\"type\":\"delta\"")) return;
  const uint8_t *key = memmem(p, n, "\"position\":", 11);
  if (!key) return;
  const uint8_t *end = p + n;
  int64_t v = 0;
  const uint8_t *d = key + 11;
  for (; d < end && *d >= '0' && *d <= '9'; d++) v = v * 10 + (*d - '0');
  if (d > key + 11) record((int32_t)(c - clients), (int32_t)v, at);
}

/* Parses the whole frames of b[0..n); returns how many bytes it used (the rest is an incomplete frame). */
static size_t frames(client *c, const uint8_t *b, size_t n, int64_t at) {
  size_t pos = 0;
  while (n - pos >= 2 && c->state != CLOSED) {
    uint8_t b0 = b[pos], b1 = b[pos + 1];
    uint64_t len = b1 & 0x7f;
    size_t hdr = 2;
    if (len == 126) {
      if (n - pos < 4) break;
      len = (uint64_t)b[pos + 2] << 8 | b[pos + 3];
      hdr = 4;
    } else if (len == 127) {
      if (n - pos < 10) break;
      len = 0;
      for (int i = 0; i < 8; i++) len = len << 8 | b[pos + 2 + i];
      hdr = 10;
    }
    if (b1 & 0x80 || !(b0 & 0x80) || (b0 & 0x0f) == 0) {
      fprintf(stderr, "ws-clients: the server sent a masked or fragmented frame\n");
      finish(c);
      return n;
    }
    if (n - pos - hdr < len) break;
    const uint8_t *payload = b + pos + hdr;
    pos += hdr + len;
    switch (b0 & 0x0f) {
    case 0x1:
    case 0x2: message(c, payload, len, at); break;
    case 0x9: sendFrame(c, 0xa, payload, len); break;
    case 0x8:
      if (c->state != CLOSING) sendFrame(c, 0x8, payload, len < 2 ? len : 2);
      finish(c);
      return n;
    }
  }
  return pos;
}

/* The server's answer to the upgrade; returns the bytes it took, 0 while incomplete. */
static size_t upgraded(client *c, const uint8_t *b, size_t n) {
  const uint8_t *end = memmem(b, n, "\r\n\r\n", 4);
  if (!end) return 0;
  size_t head = end - b + 4;
  char *text = strndup((const char *)b, head);
  if (strncmp(text, "HTTP/1.1 101 ", 13) != 0 || !strcasestr(text, "sec-websocket-accept: " ACCEPT)) {
    fprintf(stderr, "ws-clients: the server refused the upgrade: %.*s\n", (int)strcspn(text, "\r"), text);
    free(text);
    finish(c);
    return n;
  }
  free(text);
  c->state = OPEN;
  return head;
}

static void readable(client *c) {
  ssize_t got = recv(c->fd, readBuffer, sizeof readBuffer, MSG_DONTWAIT);
  if (got < 0 && errno == EAGAIN) return;
  if (got <= 0) {
    finish(c);
    return;
  }
  int64_t at = nowUs();
  const uint8_t *b = readBuffer;
  size_t n = (size_t)got;
  uint8_t *joined = NULL;
  if (c->pendingLength) {
    joined = malloc(c->pendingLength + n);
    memcpy(joined, c->pending, c->pendingLength);
    memcpy(joined + c->pendingLength, readBuffer, n);
    b = joined;
    n += c->pendingLength;
    free(c->pending);
    c->pending = NULL;
    c->pendingLength = 0;
  }
  size_t used = 0;
  if (c->state == UPGRADING) used = upgraded(c, b, n);
  if (c->state == OPEN || c->state == CLOSING) used += frames(c, b + used, n - used, at);
  if (c->state != CLOSED && used < n) {
    c->pending = malloc(n - used);
    memcpy(c->pending, b + used, n - used);
    c->pendingLength = n - used;
  }
  free(joined);
}

static void pump(int timeoutMs) {
  struct epoll_event events[256];
  int k = epoll_wait(epfd, events, 256, timeoutMs);
  if (k < 0 && errno != EINTR) die("epoll_wait");
  for (int i = 0; i < k; i++) {
    if (events[i].data.u64 == STDIN_TAG) continue;
    readable(&clients[events[i].data.u64]);
  }
}

static void openClient(const struct sockaddr_in *to, const char *hostPort, const char *path) {
  if (clientCount == clientCapacity) {
    clientCapacity = clientCapacity ? clientCapacity * 2 : 1024;
    clients = realloc(clients, clientCapacity * sizeof *clients);
    if (!clients) die("out of memory");
  }
  client *c = &clients[clientCount];
  memset(c, 0, sizeof *c);
  c->fd = socket(AF_INET, SOCK_STREAM, 0);
  if (c->fd < 0) die("socket");
  int one = 1;
  setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(c->fd, (const struct sockaddr *)to, sizeof *to) < 0) die("connect");
  char request[1024];
  int len = snprintf(request, sizeof request,
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     "Sec-WebSocket-Key: " KEY "\r\nSec-WebSocket-Version: 13\r\n\r\n",
                     path, hostPort);
  if (send(c->fd, request, len, MSG_NOSIGNAL) != len) die("send");
  struct epoll_event e = {.events = EPOLLIN, .data.u64 = clientCount};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &e) < 0) die("epoll_ctl");
  c->state = UPGRADING;
  clientCount++;
}

static void parseAddress(const char *hostPort, struct sockaddr_in *out) {
  char host[256];
  const char *colon = strrchr(hostPort, ':');
  if (!colon || (size_t)(colon - hostPort) >= sizeof host) {
    fprintf(stderr, "ws-clients: not HOST:PORT: %s\n", hostPort);
    exit(2);
  }
  memcpy(host, hostPort, colon - hostPort);
  host[colon - hostPort] = 0;
  if (!strcmp(host, "localhost")) strcpy(host, "127.0.0.1");
  memset(out, 0, sizeof *out);
  out->sin_family = AF_INET;
  out->sin_port = htons(atoi(colon + 1));
  if (inet_pton(AF_INET, host, &out->sin_addr) != 1) {
    fprintf(stderr, "ws-clients: not an IPv4 address: %s\n", host);
    exit(2);
  }
}

/* open COUNT FIRST PATH HOST:PORT...: at most 100 upgrades in flight, as the Node clients do. */
static void openCommand(char *args) {
  char *save;
  long count = strtol(strtok_r(args, " ", &save), NULL, 10);
  long first = strtol(strtok_r(NULL, " ", &save), NULL, 10);
  char *path = strdup(strtok_r(NULL, " ", &save));
  char *hostPorts[64];
  struct sockaddr_in addresses[64];
  int targets = 0;
  for (char *t; targets < 64 && (t = strtok_r(NULL, " \n", &save));) {
    hostPorts[targets] = t;
    parseAddress(t, &addresses[targets++]);
  }
  if (!targets) {
    fprintf(stderr, "ws-clients: open without an address\n");
    exit(2);
  }
  size_t start = clientCount;
  long opened = 0;
  while (opened < count) {
    long batch = count - opened < 100 ? count - opened : 100;
    size_t from = clientCount;
    for (long i = 0; i < batch; i++) {
      int t = (int)((first + (long)clientCount) % targets);
      openClient(&addresses[t], hostPorts[t], path);
    }
    /* a client the server has not greeted within 30 s is not counted as opened */
    int64_t until = nowUs() + 30000000;
    for (;;) {
      int waiting = 0;
      for (size_t i = from; i < clientCount; i++)
        if (clients[i].state != CLOSED && !clients[i].greeted) waiting = 1;
      if (!waiting || nowUs() >= until) break;
      pump(1000);
    }
    opened += batch;
  }
  long greeted = 0;
  for (size_t i = start; i < clientCount; i++) greeted += clients[i].greeted && clients[i].state != CLOSED;
  printf("opened %ld %ld\n", greeted, cpuMs());
  fflush(stdout);
  free(path);
}

static void dumpCommand(const char *file) {
  FILE *f = fopen(file, "wb");
  if (!f) die(file);
  for (size_t i = 0; i < records; i++) {
    fwrite(&recClient[i], 4, 1, f);
    fwrite(&recPosition[i], 4, 1, f);
    fwrite(&recAt[i], 8, 1, f);
  }
  if (fclose(f) != 0) die(file);
  printf("dumped %zu %ld\n", records, cpuMs());
  fflush(stdout);
}

static void closeCommand(void) {
  static const uint8_t normal[2] = {0x03, 0xe8};
  for (size_t i = 0; i < clientCount; i++) {
    if (clients[i].state != OPEN) continue;
    sendFrame(&clients[i], 0x8, normal, 2);
    if (clients[i].state == OPEN) clients[i].state = CLOSING;
  }
  int64_t until = nowUs() + 1000000;
  for (;;) {
    int open = 0;
    for (size_t i = 0; i < clientCount; i++) open += clients[i].state != CLOSED;
    if (!open || nowUs() >= until) break;
    pump(100);
  }
  for (size_t i = 0; i < clientCount; i++) finish(&clients[i]);
  clientCount = 0;
  records = 0;
  printf("closed\n");
  fflush(stdout);
}

int main(void) {
  epfd = epoll_create1(0);
  if (epfd < 0) die("epoll_create1");
  struct epoll_event e = {.events = EPOLLIN, .data.u64 = STDIN_TAG};
  if (epoll_ctl(epfd, EPOLL_CTL_ADD, 0, &e) < 0) die("epoll_ctl stdin");
  char line[8192];
  size_t have = 0;
  for (;;) {
    struct epoll_event events[256];
    int k = epoll_wait(epfd, events, 256, -1);
    if (k < 0 && errno != EINTR) die("epoll_wait");
    int command = 0;
    for (int i = 0; i < k; i++) {
      if (events[i].data.u64 == STDIN_TAG) command = 1;
      else readable(&clients[events[i].data.u64]);
    }
    if (!command) continue;
    ssize_t got = read(0, line + have, sizeof line - 1 - have);
    if (got <= 0) return 0; /* the driving process went away */
    have += (size_t)got;
    line[have] = 0;
    char *nl;
    while ((nl = strchr(line, '\n'))) {
      *nl = 0;
      if (!strncmp(line, "open ", 5)) openCommand(line + 5);
      else if (!strcmp(line, "count")) {
        printf("count %zu\n", records);
        fflush(stdout);
      } else if (!strncmp(line, "dump ", 5)) dumpCommand(line + 5);
      else if (!strcmp(line, "close")) closeCommand();
      else {
        fprintf(stderr, "ws-clients: unknown command: %s\n", line);
        return 2;
      }
      size_t used = nl + 1 - line;
      memmove(line, nl + 1, have - used + 1);
      have -= used;
    }
  }
}
