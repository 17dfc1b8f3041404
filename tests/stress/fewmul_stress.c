// SPDX-License-Identifier: GPL-2.0
/*
 * fewmul_stress: a seeded, structure-aware random driver of /dev/fewmul.
 *
 * usage: fewmul_stress [--ops N] [--seed S] [--procs P] [--threads T]
 *
 * P processes of T threads share N operations. Every thread draws from
 * its own xorshift stream (seed, process, thread) and calls, on the
 * process's fds (a shared table, up to FDS_MAX): open, close (also while
 * another thread trains on the fd), BUF_REGISTER / UNREGISTER (valid,
 * unaligned, wrapping, unmapped, read-only), MODEL_CREATE (valid small
 * nets, bad configs, huge nets), TRAIN / EVAL (valid, bad indices, bad
 * pointers), HELP (a thread lent to a context until a timer signal ends
 * the wait, or a final stop), STATS, HIST, INFO, unknown ioctls and
 * sizes (in the _IOWR() and the old _IO() encodings), munmap and
 * mmap over registered memory, fork (the child works on inherited fds and
 * exits), contexts passed over SCM_RIGHTS through a socket every process
 * shares (a context may then be used by several processes, and be in
 * flight when its last user closes it), and signals to the other
 * threads. Threads interleave freely, so
 * the kernel's answers are not reproducible, only the sequence of
 * requests per thread is.
 *
 * Every call must succeed or fail with one of the documented errnos; any
 * other result is counted and printed. At the end every fd is closed and
 * the pinned pages of the system (/proc/vmstat nr_foll_pin_*) must be back
 * at their baseline, and so must the locked memory charged to the user
 * (memlock_probe()). Exit status 0 when all went well.
 * dmesg (KASAN, lockdep, hung tasks) and kmemleak are for the runner.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/capability.h>
#include <linux/fewmul.h>

#include "../selftests/ioc.h"
#include "../selftests/pins.h"

#define DEV		"/dev/" FEWMUL_DEVICE_NAME
#define FDS_MAX		6
#define MEM_BYTES	(1u << 20)
#define THREADS_MAX	16

static int fds[FDS_MAX];
static pthread_mutex_t fds_lock = PTHREAD_MUTEX_INITIALIZER;
static uint8_t *mem;		/* MEM_BYTES of anonymous memory */
static atomic_long ops_left;
static atomic_long bad;
static atomic_long nr_ok, nr_err, nr_badf, nr_passed;
static pthread_t threads[THREADS_MAX];
static pthread_barrier_t start;	/* every thread id known before any signal */
static unsigned int nthreads;
static int sock[2];		/* shared by every process: fds in flight */

static uint64_t xs_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	return *s = x;
}

static uint32_t rnd(uint64_t *s, uint32_t n)
{
	return n ? (uint32_t)(xs_next(s) % n) : 0;
}

static void on_signal(int sig)
{
	(void)sig;
}

/* Documented errnos of the ioctls, plus EBADF for a racing close. */
static int errno_ok(int e)
{
	switch (e) {
	case EINVAL: case E2BIG: case EFAULT: case ENOENT: case ENOSPC:
	case EBUSY: case ENODEV: case EACCES: case ENOMEM: case EOPNOTSUPP:
	case EINTR: case EDQUOT: case EMFILE: case ENOTTY: case EBADF:
	case ESHUTDOWN:
		return 1;
	}
	return 0;
}

static void check(const char *what, int ret)
{
	if (ret >= 0) {
		atomic_fetch_add(&nr_ok, 1);
		return;
	}
	atomic_fetch_add(&nr_err, 1);
	if (errno == EBADF)
		atomic_fetch_add(&nr_badf, 1);
	if (!errno_ok(errno)) {
		atomic_fetch_add(&bad, 1);
		fprintf(stderr, "stress: %s: unexpected %s\n", what,
			strerror(errno));
	}
}

static int pick_fd(uint64_t *s)
{
	int fd;

	pthread_mutex_lock(&fds_lock);
	fd = fds[rnd(s, FDS_MAX)];
	pthread_mutex_unlock(&fds_lock);
	return fd;
}

/* A new context in an empty slot, or in place of a random one. */
static void op_open(uint64_t *s)
{
	int i = rnd(s, FDS_MAX), fd, old, j;

	fd = open(DEV, O_RDWR | O_CLOEXEC);
	check("open", fd);
	if (fd < 0)
		return;
	pthread_mutex_lock(&fds_lock);
	for (j = 0; j < FDS_MAX; j++)
		if (fds[j] < 0)
			i = j;
	old = fds[i];
	fds[i] = fd;
	pthread_mutex_unlock(&fds_lock);
	if (old >= 0)
		close(old);	/* possibly while another thread uses it */
}

static void op_close(uint64_t *s)
{
	int i = rnd(s, FDS_MAX), old;

	pthread_mutex_lock(&fds_lock);
	old = fds[i];
	fds[i] = -1;
	pthread_mutex_unlock(&fds_lock);
	if (old >= 0)
		close(old);
}

static void op_register(uint64_t *s, int fd)
{
	struct fewmul_buf_register r;
	uint32_t kind = rnd(s, 8);

	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	r.flags = rnd(s, 4) ? FEWMUL_BUF_WRITE : 0;
	r.addr = (uintptr_t)mem + rnd(s, MEM_BYTES / 2);
	r.length = 1 + rnd(s, MEM_BYTES / 4);
	switch (kind) {
	case 0:
		r.addr = (uint64_t)-4096;	/* wraps */
		break;
	case 1:
		r.addr = 4096;			/* unmapped */
		break;
	case 2:
		r.flags = 0x80;			/* unknown flag */
		break;
	case 3:
		r.length = 0;
		break;
	}
	check("BUF_REGISTER", ioctl(fd, FEWMUL_IOC_BUF_REGISTER, &r));
}

static void op_unregister(uint64_t *s, int fd)
{
	struct fewmul_buf_unregister u;

	memset(&u, 0, sizeof(u));
	u.size = sizeof(u);
	u.handle = rnd(s, 18);
	check("BUF_UNREGISTER", ioctl(fd, FEWMUL_IOC_BUF_UNREGISTER, &u));
}

/* A small net: 16-w-k, arena of the right size somewhere in mem. */
static void op_model(uint64_t *s, int fd)
{
	struct fewmul_model_create mc;
	uint32_t w1 = 4 + rnd(s, 28), k = 2 + rnd(s, 3);

	memset(&mc, 0, sizeof(mc));
	mc.size = sizeof(mc);
	mc.flags = FEWMUL_MODEL_INIT | (rnd(s, 2) ? FEWMUL_MODEL_QBP : 0);
	mc.arena = 1 + rnd(s, 17);
	mc.nr_layers = 2;
	mc.width[0] = 16;
	mc.width[1] = w1;
	mc.width[2] = k;
	mc.weights = rnd(s, 3);
	mc.bn = rnd(s, 2);
	mc.exp_min = -4;
	mc.exp_max = 3;
	mc.lr_shift_start = 3;
	mc.lr_shift_end = 6;
	mc.epochs = 4;
	mc.batch = 1 + rnd(s, 16);
	mc.seed = xs_next(s);
	if (!rnd(s, 6))
		mc.width[1] = 1u << rnd(s, 16);	/* often too big or invalid */
	if (!rnd(s, 8))
		mc.batch = 0;
	check("MODEL_CREATE", ioctl(fd, FEWMUL_IOC_MODEL_CREATE, &mc));
}

static void op_run(uint64_t *s, int fd, int train)
{
	static const uint32_t idx_pool[64] = {
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
		1, 3, 5, 7, 9, 11, 13, 15, 0, 2, 4, 6, 8, 10, 12, 14,
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
		15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0,
	};
	struct fewmul_run r;

	memset(&r, 0, sizeof(r));
	r.size = sizeof(r);
	r.images = 1 + rnd(s, 17);
	r.labels = 1 + rnd(s, 17);
	r.nr_samples = 16;
	r.indices = (uintptr_t)idx_pool;
	r.nr_indices = 1 + rnd(s, 64);
	r.notify_every = rnd(s, 3);
	if (!rnd(s, 10))
		r.indices = 8;			/* bad pointer */
	if (!rnd(s, 10))
		r.nr_samples = 0;
	if (!rnd(s, 8)) {			/* a place in the epoch, or not */
		r.epoch_total = rnd(s, 6);
		r.epoch_done = rnd(s, 6);
	}
	if (!rnd(s, 8)) {	/* data parallel: no model here has its memory */
		r.flags |= FEWMUL_RUN_DATA_PARALLEL;
		r.dp_size = rnd(s, 3);
		r.dp_rank = rnd(s, 3);
		r.dp_buffer = rnd(s, 17);
	}
	check(train ? "TRAIN" : "EVAL",
	      ioctl(fd, train ? FEWMUL_IOC_TRAIN : FEWMUL_IOC_EVAL, &r));
}

static void op_query(uint64_t *s, int fd)
{
	union {
		struct fewmul_info info;
		struct fewmul_stats st;
		struct fewmul_hist h;
		uint8_t raw[8192];
	} u;
	uint32_t kind = rnd(s, 5);

	memset(&u, 0, sizeof(u));
	u.info.size = rnd(s, 8) ? sizeof(u.h) : rnd(s, 8192);
	switch (kind) {
	case 0:
		u.info.size = sizeof(u.info);
		check("INFO", ioctl(fd, FEWMUL_IOC_INFO, &u));
		break;
	case 1:
		u.st.size = sizeof(u.st);
		check("STATS", ioctl(fd, FEWMUL_IOC_STATS, &u));
		break;
	case 2:
		u.h.size = sizeof(u.h);
		u.h.layer = rnd(s, 4);
		check("HIST", ioctl(fd, FEWMUL_IOC_HIST, &u));
		break;
	case 3:
		check("bad ioctl", ioctl(fd, _IO(FEWMUL_IOC_TYPE, rnd(s, 64)),
					 &u));
		break;
	default:	/* the command encodes the odd size, as it must */
		check("bad size", ioctl(fd, ioc_sized(FEWMUL_IOC_INFO, u.info.size), &u));
		break;
	}
}

/*
 * A blocking call ended after a few milliseconds: a timer's SIGUSR1 to
 * this thread, repeated until the call returns.
 */
static void timed_ioctl(uint64_t *s, const char *what, int fd,
			unsigned long req, void *arg)
{
	struct itimerspec its;
	struct sigevent ev;
	timer_t t;

	memset(&ev, 0, sizeof(ev));
	ev.sigev_notify = SIGEV_THREAD_ID;
	ev.sigev_signo = SIGUSR1;
	ev._sigev_un._tid = gettid();	/* sigev_notify_thread_id */
	if (timer_create(CLOCK_MONOTONIC, &ev, &t))
		return;
	memset(&its, 0, sizeof(its));
	its.it_value.tv_nsec = (1 + rnd(s, 20)) * 1000000L;
	its.it_interval.tv_nsec = 10000000L;
	timer_settime(t, 0, &its, NULL);
	check(what, ioctl(fd, req, arg));
	timer_delete(t);
}

/*
 * Lend this thread to a context (FEWMUL_IOC_HELP) for a few milliseconds.
 * Now and then stop a context's helpers for good instead.
 */
static void op_help(uint64_t *s, int fd)
{
	struct fewmul_help h;

	memset(&h, 0, sizeof(h));
	h.size = sizeof(h);
	if (!rnd(s, 40)) {
		h.flags = FEWMUL_HELP_STOP;
		check("HELP stop", ioctl(fd, FEWMUL_IOC_HELP, &h));
		return;
	}
	timed_ioctl(s, "HELP", fd, FEWMUL_IOC_HELP, &h);
}

/*
 * FEWMUL_IOC_EXCHANGE with nothing to serve: a WAIT ended by a timer
 * signal, a DONE with no exchange claimed, random arguments, a rare stop.
 */
static void op_exchange(uint64_t *s, int fd)
{
	struct fewmul_exchange x;

	memset(&x, 0, sizeof(x));
	x.size = sizeof(x);
	x.op = rnd(s, 4);
	if (x.op == FEWMUL_XCHG_STOP && rnd(s, 20))
		x.op = FEWMUL_XCHG_DONE;
	if (!rnd(s, 4)) {
		x.flags = rnd(s, 2);
		x.error = -(int32_t)rnd(s, 5000);
		x.seq = rnd(s, 4);
		x.count = rnd(s, 300);
		x.width = rnd(s, 9);
	}
	if (x.op == FEWMUL_XCHG_WAIT)
		timed_ioctl(s, "EXCHANGE wait", fd, FEWMUL_IOC_EXCHANGE, &x);
	else
		check("EXCHANGE", ioctl(fd, FEWMUL_IOC_EXCHANGE, &x));
}

/* Replace a page of the shared memory: registered pages stay pinned. */
static void op_remap(uint64_t *s)
{
	uint8_t *p = mem + (rnd(s, MEM_BYTES / 4096) << 12);

	if (mmap(p, 4096, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) == MAP_FAILED)
		atomic_fetch_add(&bad, 1);
	else
		memset(p, (int)rnd(s, 3), 4096);
}

static void op_fork(uint64_t *s)
{
	uint64_t cs = xs_next(s) | 1;
	pid_t pid = fork();
	int i;

	if (pid < 0)
		return;
	if (!pid) {
		for (i = 0; i < 8; i++) {
			int fd = fds[rnd(&cs, FDS_MAX)];

			switch (rnd(&cs, 4)) {
			case 0:
				op_register(&cs, fd);
				break;
			case 1:
				op_model(&cs, fd);
				break;
			case 2:
				op_run(&cs, fd, 1);
				break;
			default:
				op_query(&cs, fd);
				break;
			}
		}
		_exit(atomic_load(&bad) ? 1 : 0);	/* no stdio flush */
	}
	if (rnd(s, 2))
		kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/*
 * Pass a context over SCM_RIGHTS: send one of ours into the socket every
 * process shares, or take one some process sent (it may be training in
 * its first owner meanwhile, or be closed there). What is still in flight
 * at the end goes when the last process closes the socket.
 */
static void op_pass(uint64_t *s)
{
	char buf[CMSG_SPACE(sizeof(int))], b = 0;
	struct iovec iov = { .iov_base = &b, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = buf, .msg_controllen = sizeof(buf),
	};
	struct cmsghdr *cm;
	int fd, i, old;

	memset(buf, 0, sizeof(buf));
	if (rnd(s, 2)) {
		fd = pick_fd(s);
		if (fd < 0)
			return;
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
		/* EBADF: another thread closed it; EAGAIN: the queue is full */
		if (sendmsg(sock[0], &msg, MSG_DONTWAIT) < 0 &&
		    errno != EAGAIN && errno != EBADF && errno != ENOBUFS)
			check("sendmsg SCM_RIGHTS", -1);
		return;
	}
	if (recvmsg(sock[1], &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC) < 0) {
		if (errno != EAGAIN && errno != EINTR)
			check("recvmsg SCM_RIGHTS", -1);
		return;
	}
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	i = rnd(s, FDS_MAX);
	pthread_mutex_lock(&fds_lock);
	old = fds[i];
	fds[i] = fd;
	pthread_mutex_unlock(&fds_lock);
	atomic_fetch_add(&nr_passed, 1);
	if (old >= 0)
		close(old);
}

static void op_signal(uint64_t *s)
{
	pthread_kill(threads[rnd(s, nthreads)], SIGUSR1);
}

static void *worker(void *arg)
{
	uint64_t s = (uint64_t)(uintptr_t)arg;
	int fd;

	pthread_barrier_wait(&start);
	while (atomic_fetch_sub(&ops_left, 1) > 0) {
		uint32_t op = rnd(&s, 100);

		fd = pick_fd(&s);
		if (op < 5)
			op_open(&s);
		else if (op < 7)
			op_close(&s);
		else if (op < 22)
			op_register(&s, fd);
		else if (op < 30)
			op_unregister(&s, fd);
		else if (op < 42)
			op_model(&s, fd);
		else if (op < 60)
			op_run(&s, fd, 1);
		else if (op < 68)
			op_run(&s, fd, 0);
		else if (op < 72)
			op_help(&s, fd);
		else if (op < 74)
			op_exchange(&s, fd);
		else if (op < 90)
			op_query(&s, fd);
		else if (op < 92)
			op_pass(&s);
		else if (op < 95)
			op_remap(&s);
		else if (op < 96)
			op_fork(&s);
		else
			op_signal(&s);
	}
	return NULL;
}

static int run_process(long ops, uint64_t seed, unsigned int proc)
{
	struct sigaction sa;
	unsigned int t, i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;	/* no SA_RESTART: ioctls see EINTR */
	sigaction(SIGUSR1, &sa, NULL);
	mem = mmap(NULL, MEM_BYTES, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return 1;
	for (i = 0; i < MEM_BYTES; i++)
		mem[i] = (uint8_t)(i % 3);	/* labels 0..2, small pixels */
	for (i = 0; i < FDS_MAX; i++)
		fds[i] = open(DEV, O_RDWR | O_CLOEXEC);
	atomic_store(&ops_left, ops);
	pthread_barrier_init(&start, NULL, nthreads);
	for (t = 0; t < nthreads; t++) {
		uint64_t ts = (seed * 0x9e3779b97f4a7c15ull) ^
			      ((uint64_t)proc << 32) ^ (t + 1) ^ 0x5bd1e995u;

		pthread_create(&threads[t], NULL, worker,
			       (void *)(uintptr_t)(ts | 1));
	}
	for (t = 0; t < nthreads; t++)
		pthread_join(threads[t], NULL);
	for (i = 0; i < FDS_MAX; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	printf("stress: process %u: %ld ok, %ld errors (%ld EBADF), %ld contexts received over SCM_RIGHTS, %ld unexpected\n",
	       proc, atomic_load(&nr_ok), atomic_load(&nr_err),
	       atomic_load(&nr_badf), atomic_load(&nr_passed),
	       atomic_load(&bad));
	fflush(stdout);
	return atomic_load(&bad) ? 1 : 0;
}

/*
 * The calling user's locked-memory charge is at zero: a child of this
 * user without CAP_IPC_LOCK and with RLIMIT_MEMLOCK = PROBE_BYTES can
 * register exactly PROBE_BYTES (one page more fails with ENOMEM). The
 * module charges the user (user_struct.locked_vm), whatever process
 * pinned, so a charge left behind by any process of the run shows here.
 * Returns 0 (at zero), 1 (charged), -1 (could not probe).
 */
#define PROBE_BYTES	(4u << 20)
static int memlock_probe(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct cap[2];
	struct fewmul_buf_register r;
	struct rlimit rl = { PROBE_BYTES, PROBE_BYTES };
	int status, fd, ret;
	uint8_t *p;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		if (syscall(SYS_capget, &hdr, cap))
			_exit(3);
		cap[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
		cap[CAP_IPC_LOCK / 32].permitted &= ~(1u << (CAP_IPC_LOCK % 32));
		if (syscall(SYS_capset, &hdr, cap) || setrlimit(RLIMIT_MEMLOCK, &rl))
			_exit(3);
		p = mmap(NULL, PROBE_BYTES + 4096, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		fd = open("/dev/fewmul", O_RDWR | O_CLOEXEC);
		if (p == MAP_FAILED || fd < 0)
			_exit(3);
		memset(p, 1, PROBE_BYTES + 4096);
		memset(&r, 0, sizeof(r));
		r.size = sizeof(r);
		r.addr = (uintptr_t)p;
		r.length = PROBE_BYTES + 4096;
		ret = ioctl(fd, FEWMUL_IOC_BUF_REGISTER, &r);
		if (!ret || errno != ENOMEM)
			_exit(3);	/* the limit does not apply: no probe */
		r.length = PROBE_BYTES;
		_exit(ioctl(fd, FEWMUL_IOC_BUF_REGISTER, &r) ? 1 : 0);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status) == 3 ? -1 : WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	long ops = 1000000;
	uint64_t seed = 1;
	unsigned int procs = 3, p, failed = 0, i;
	long long pins0, pins1 = -1;
	int lock0, lock1 = -1;
	struct timespec t0, t1;
	int c, status;

	nthreads = 3;
	while ((c = getopt(argc, argv, "n:s:p:t:")) != -1) {
		switch (c) {
		case 'n':
			ops = atol(optarg);
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'p':
			procs = atoi(optarg);
			break;
		case 't':
			nthreads = atoi(optarg);
			break;
		default:
			fprintf(stderr, "usage: %s [-n OPS] [-s SEED] [-p PROCS] [-t THREADS]\n",
				argv[0]);
			return 2;
		}
	}
	if (!procs || !nthreads || nthreads > THREADS_MAX || ops < 1)
		return 2;
	if (pins_now(&pins0))
		pins0 = -1;
	lock0 = memlock_probe();
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sock)) {
		perror("stress: socketpair");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (p = 0; p < procs; p++) {
		if (!fork())
			_exit(run_process(ops / procs + (p < ops % procs),
					  seed, p));
	}
	for (p = 0; p < procs; p++)
		if (wait(&status) < 0 || !WIFEXITED(status) ||
		    WEXITSTATUS(status))
			failed++;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	/* the contexts still in flight go with the socket */
	close(sock[0]);
	close(sock[1]);
	/* unpinning after the last close may lag behind a little */
	for (i = 0; i < 50; i++) {
		if (pins_now(&pins1))
			pins1 = -1;
		if (pins1 == pins0)
			break;
		usleep(100000);
	}
	printf("stress: %ld operations, seed %llu, %u processes x %u threads, %.1f s\n",
	       ops, (unsigned long long)seed, procs, nthreads,
	       (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9);
	printf("stress: pinned pages %lld before, %lld after\n", pins0, pins1);
	if (pins0 != pins1)
		failed++;
	/* the user's locked-memory charge: at zero before, so after */
	for (i = 0; i < 50 && lock0 == 0; i++) {
		lock1 = memlock_probe();
		if (lock1 == 0)
			break;
		usleep(100000);
	}
	printf("stress: locked memory charged to the user: %s before, %s after\n",
	       lock0 ? lock0 < 0 ? "not probed" : "some" : "none",
	       lock0 ? "-" : lock1 ? lock1 < 0 ? "not probed" : "some (leaked)" : "none");
	if (lock0 == 0 && lock1 != 0)
		failed++;
	printf("stress: %s\n", failed ? "FAILED" : "ok");
	return failed ? 1 : 0;
}
