/*
 * A Kafka-protocol test broker: librdkafka's mock cluster on loopback.
 *
 * Why: Kafka itself cannot be installed on the CI machine, but the mock cluster
 * speaks the real wire protocol (produce, fetch, consumer groups, auto-created
 * topics), so kafkajs is exercised exactly as against a real broker. It has no
 * controller: admin APIs and the idempotent producer are kept behind config.
 *
 * Usage: mock_cluster [brokers=1]
 * Prints "BOOTSTRAP <host:port,...>" on stdout, then reads fault commands, one
 * per line, from stdin (or from the FIFO named by $KAFKA_MOCK_CONTROL):
 *   down <brokerId>            take a broker down (connections refused/closed)
 *   up <brokerId>              bring it back
 *   rtt <brokerId> <ms>        add round-trip latency
 *   errors <apiKey> <err> <n>  fail the next n requests of apiKey with err
 *   quit                       stop
 * Each command is answered with "OK ..." or "ERR ..." on stdout.
 */
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

static volatile sig_atomic_t stop = 0;
static void on_signal(int sig) { (void)sig; stop = 1; }

static void handle(rd_kafka_mock_cluster_t *mc, char *line) {
  char cmd[32] = {0};
  long a = 0, b = 0, c = 0;
  int n = sscanf(line, "%31s %ld %ld %ld", cmd, &a, &b, &c);
  rd_kafka_resp_err_t err = RD_KAFKA_RESP_ERR_NO_ERROR;
  if (n < 1) return;
  if (!strcmp(cmd, "down") && n >= 2) {
    err = rd_kafka_mock_broker_set_down(mc, (int32_t)a);
  } else if (!strcmp(cmd, "up") && n >= 2) {
    err = rd_kafka_mock_broker_set_up(mc, (int32_t)a);
  } else if (!strcmp(cmd, "rtt") && n >= 3) {
    err = rd_kafka_mock_broker_set_rtt(mc, (int32_t)a, (int)b);
  } else if (!strcmp(cmd, "errors") && n >= 4) {
    rd_kafka_resp_err_t *errs = calloc((size_t)c, sizeof(*errs));
    for (long i = 0; i < c; i++) errs[i] = (rd_kafka_resp_err_t)b;
    rd_kafka_mock_push_request_errors_array(mc, (int16_t)a, (size_t)c, errs);
    free(errs);
  } else if (!strcmp(cmd, "quit")) {
    stop = 1;
  } else {
    printf("ERR unknown command: %s\n", line);
    fflush(stdout);
    return;
  }
  if (err) printf("ERR %s\n", rd_kafka_err2str(err));
  else printf("OK %s\n", cmd);
  fflush(stdout);
}

int main(int argc, char **argv) {
  int brokers = argc > 1 ? atoi(argv[1]) : 1;
  char errstr[512];
  rd_kafka_conf_t *conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
  rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (!rk) { fprintf(stderr, "rd_kafka_new: %s\n", errstr); return 1; }
  rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, brokers);
  if (!mc) { fprintf(stderr, "mock cluster failed\n"); return 1; }

  /* No SA_RESTART: a signal must interrupt the blocking read of commands. */
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  signal(SIGPIPE, SIG_IGN);
  printf("BOOTSTRAP %s\n", rd_kafka_mock_cluster_bootstraps(mc));
  fflush(stdout);

  const char *fifo = getenv("KAFKA_MOCK_CONTROL");
  FILE *in = stdin;
  char line[256];
  while (!stop) {
    if (fifo && *fifo) {
      in = fopen(fifo, "r"); /* blocks until a writer opens it */
      if (!in) { if (errno == EINTR) continue; perror("fopen control fifo"); break; }
    }
    while (!stop && fgets(line, sizeof line, in)) handle(mc, line);
    if (fifo && *fifo) fclose(in);
    else if (!stop) {
      /* stdin closed: keep serving until signalled (daemon use). */
      while (!stop) pause();
    }
  }
  rd_kafka_mock_cluster_destroy(mc);
  rd_kafka_destroy(rk);
  return 0;
}
