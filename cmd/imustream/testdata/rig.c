/* A minimal rig in C: it asks the daemon for samples with the 19-byte
 * packet (byte 4 = 1, again every second), reads them with the struct of
 * `imustream rig-layout --as c` (rig_sample.h, the simulink layout) and
 * prints each as its raw bytes in hex and its fields; then sends stop.
 * usage: rig DAEMON_HOST RIG_PORT SAMPLE_PORT COUNT */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "rig_sample.h"

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
	if (argc != 5) {
		fprintf(stderr, "usage: rig DAEMON_HOST RIG_PORT SAMPLE_PORT COUNT\n");
		return 2;
	}
	struct sockaddr_in daemon = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[2]))};
	struct sockaddr_in local = {.sin_family = AF_INET, .sin_port = htons(atoi(argv[3]))};
	inet_pton(AF_INET, argv[1], &daemon.sin_addr);
	inet_pton(AF_INET, "127.0.0.1", &local.sin_addr);
	int count = atoi(argv[4]);
	int tx = socket(AF_INET, SOCK_DGRAM, 0), rx = socket(AF_INET, SOCK_DGRAM, 0);
	if (tx < 0 || rx < 0 || bind(rx, (struct sockaddr *)&local, sizeof local) < 0) {
		perror("socket");
		return 1;
	}
	struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
	setsockopt(rx, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	unsigned char cmd[19] = {0};
	cmd[4] = 1;
	double last = -10, start = now();
	unsigned char buf[sizeof(imustream_rig_sample) + 1];
	for (int n = 0; n < count;) {
		if (now() - last >= 1) {
			sendto(tx, cmd, sizeof cmd, 0, (struct sockaddr *)&daemon, sizeof daemon);
			last = now();
		}
		if (now() - start > 30) {
			fprintf(stderr, "rig: %d samples in 30 s\n", n);
			return 1;
		}
		ssize_t len = recv(rx, buf, sizeof buf, 0);
		if (len != (ssize_t)sizeof(imustream_rig_sample))
			continue;
		imustream_rig_sample s;
		memcpy(&s, buf, sizeof s);
		for (size_t i = 0; i < sizeof s; i++)
			printf("%02x", buf[i]);
		printf(" seq=%u t=%.17g ax=%.17g ay=%.17g az=%.17g gx=%.17g gy=%.17g gz=%.17g temp=%.17g flags=%u\n",
		       s.seq, s.t, s.ax, s.ay, s.az, s.gx, s.gy, s.gz, s.temp, s.flags);
		n++;
	}
	cmd[4] = 0;
	sendto(tx, cmd, sizeof cmd, 0, (struct sockaddr *)&daemon, sizeof daemon);
	return 0;
}
