/* cloop: the reference imustream bench --peer measures the daemon against.
 * A minimal C streamer: the main thread blocks in recvfrom for "start" and
 * "stop" from 127.0.0.1; a SCHED_FIFO thread sleeps with clock_nanosleep
 * (TIMER_ABSTIME) to a fixed grid and, while started, sends one 64-byte
 * datagram each period to whoever sent "start": a little-endian u32 seq, a
 * u64 CLOCK_REALTIME ns and six float sines standing in for a sample. The
 * two share one atomic. What a real-time streamer cannot do with less.
 *
 * Build: cc -O2 -pthread -o bin/cloop internal/bench/cloop/cloop.c -lm
 * Run:   bin/cloop -listen 127.0.0.1:PORT [-period-us 5000] [-prio 50] */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static int sock;
static struct sockaddr_in to[2];
static _Atomic int cur = -1; /* index into to; -1: stopped */
static long period_ns = 5000000;
static int prio = 50;

static void *sender(void *unused) {
	(void)unused;
	struct sched_param sp = {.sched_priority = prio};
	if (prio > 0 && pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) != 0)
		fprintf(stderr, "cloop: SCHED_FIFO %d refused, normal priority\n", prio);
	unsigned char b[64] = {0};
	uint32_t seq = 0;
	struct timespec next, now;
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		next.tv_nsec += period_ns;
		while (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL) != 0) {
		}
		int i = atomic_load(&cur);
		if (i < 0)
			continue;
		clock_gettime(CLOCK_REALTIME, &now);
		uint64_t ns = (uint64_t)now.tv_sec * 1000000000u + (uint64_t)now.tv_nsec;
		memcpy(b, &seq, 4); /* little-endian on every machine this runs on */
		memcpy(b + 4, &ns, 8);
		for (int k = 0; k < 6; k++) {
			float v = sinf((float)seq * 0.005f + (float)k);
			memcpy(b + 12 + 4 * k, &v, 4);
		}
		sendto(sock, b, sizeof b, 0, (struct sockaddr *)&to[i], sizeof to[i]);
		seq++;
	}
	return NULL;
}

int main(int argc, char **argv) {
	const char *listen = "127.0.0.1:9102";
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "-listen"))
			listen = argv[i + 1];
		else if (!strcmp(argv[i], "-period-us"))
			period_ns = atol(argv[i + 1]) * 1000;
		else if (!strcmp(argv[i], "-prio"))
			prio = atoi(argv[i + 1]);
	}
	char host[64];
	snprintf(host, sizeof host, "%s", listen);
	char *colon = strrchr(host, ':');
	if (colon == NULL || period_ns <= 0) {
		fprintf(stderr, "usage: cloop -listen HOST:PORT [-period-us N] [-prio P]\n");
		return 2;
	}
	*colon = 0;
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1))};
	inet_pton(AF_INET, host, &a.sin_addr);
	sock = socket(AF_INET, SOCK_DGRAM, 0);
	if (bind(sock, (struct sockaddr *)&a, sizeof a) < 0) {
		perror("cloop: bind");
		return 1;
	}
	pthread_t t;
	pthread_create(&t, NULL, sender, NULL);
	char buf[512];
	int slot = 0;
	for (;;) {
		struct sockaddr_in from;
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(sock, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
		if (n < 4 || from.sin_addr.s_addr != htonl(INADDR_LOOPBACK))
			continue;
		if (!strncmp(buf, "start", 5)) {
			/* The other slot, so the sender never reads one being written. */
			slot ^= 1;
			to[slot] = from;
			atomic_store(&cur, slot);
		} else if (!strncmp(buf, "stop", 4)) {
			atomic_store(&cur, -1);
		}
	}
}
