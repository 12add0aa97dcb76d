/*
 * The sandbox scanner (scan.h).
 *
 * Directories to list are nodes in a tree of pending work: each node knows
 * its parent, its name and the (dev, ino) it had when its parent was listed.
 * Nodes wait on one shared LIFO stack (so the walk is depth-first and the
 * stack holds at most the siblings along the current path); 1 to 8 workers
 * pop a node, list it with getdents64, fstatat() every entry relative to the
 * directory's descriptor, and push its subdirectories.
 *
 * Descriptors are per worker: a small ring indexed by depth keeps the
 * directories the worker opened last. To list a node, the worker walks up
 * to the nearest ancestor still open in its ring (the root is always open)
 * and opens down from there, one O_NOFOLLOW|O_DIRECTORY component at a
 * time, checking each (dev, ino) against what was listed. Depth-first order
 * makes that one openat() per directory almost always; no descriptor is
 * ever closed while another thread could use it, and the ring bounds them.
 *
 * Nodes are reference counted (pending work, children, ring slots) and
 * freed iteratively, so a 10,000-deep chain costs heap, not C stack.
 */
#include "scan.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FD_BUDGET        60 /* directory descriptors all workers keep open, in all */
#define FD_RING_MIN      8  /* ... and at least this many per worker */
#define DENTS_BUF        (64 * 1024)
#define PAR_MIN_ENTRIES  256 /* auto threads: entries seen before helpers start ... */
#define PAR_MIN_PENDING  8   /* ... or directories pending */
#define SEEN_INITIAL_CAP 64

struct dnode {
	struct dnode *parent;
	uint32_t refs; /* atomic: pending work, children, ring slots */
	uint32_t depth;
	dev_t dev;
	ino_t ino;
	struct cls_ctx cls; /* context of this directory's entries */
	char name[];        /* the name in the parent */
};

struct dent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

struct tally {
	uint64_t bytes[CAT_COUNT], apparent[CAT_COUNT], files[CAT_COUNT];
	uint64_t entries, dirs, vanished, errors, mounts, dedup;
};

struct slot {
	struct dnode *node;
	int fd;
};

struct scan;

struct worker {
	struct scan *s;
	pthread_t thread;
	int started;
	struct slot *ring;
	size_t nring;
	struct tally t;
	char *buf;            /* getdents64 buffer */
	struct dnode **chain; /* scratch: nodes to open on the way down */
	size_t chain_cap;
	struct dnode **kids; /* subdirectories found in the current listing */
	size_t nkids, kids_cap;
};

struct devino {
	dev_t dev;
	ino_t ino;
	int used;
};

struct scan {
	int rootfd;
	dev_t rootdev;
	uint64_t root_mnt_id; /* statx mount id of the root, if root_mnt_known */
	int root_mnt_known;
	struct scan_opts o;
	int nthreads, auto_threads;

	pthread_mutex_t mu; /* the stack, active, spawned */
	pthread_cond_t cv;
	struct dnode **stack;
	size_t n, cap;
	unsigned active; /* workers listing a directory */
	int spawned;
	int stop;      /* atomic: max_entries reached */
	uint64_t seen; /* atomic: entries, counted only with max_entries */

	struct worker w[SCAN_MAX_THREADS];

	pthread_mutex_t seen_mu; /* inodes counted: files with links (dirs too without mount ids) */
	struct devino *set;
	size_t set_n, set_cap;

	pthread_mutex_t err_mu;
	int have_error;
	char first_error[256];
};

/* --- nodes ---------------------------------------------------------------- */

static struct dnode *
node_new(struct dnode *parent, const char *name, const struct stat *st, const struct cls_ctx *cls)
{
	size_t len = strlen(name);
	struct dnode *n = xmalloc(sizeof(*n) + len + 1);

	n->parent = parent;
	n->refs = 1;
	n->depth = parent ? parent->depth + 1 : 0;
	n->dev = st->st_dev;
	n->ino = st->st_ino;
	n->cls = *cls;
	memcpy(n->name, name, len + 1);
	if (parent)
		__atomic_add_fetch(&parent->refs, 1, __ATOMIC_RELAXED);
	return n;
}

static void
node_ref(struct dnode *n)
{
	__atomic_add_fetch(&n->refs, 1, __ATOMIC_RELAXED);
}

static void
node_unref(struct dnode *n)
{
	/* A loop, not recursion: the last leaf of a deep chain frees the chain. */
	while (n && __atomic_sub_fetch(&n->refs, 1, __ATOMIC_ACQ_REL) == 0) {
		struct dnode *parent = n->parent;
		free(n);
		n = parent;
	}
}

/* --- inodes seen ---------------------------------------------------------- */

static size_t
devino_hash(dev_t dev, ino_t ino)
{
	uint64_t h = (uint64_t)ino ^ ((uint64_t)dev * 0x9e3779b97f4a7c15ULL);
	h ^= h >> 31;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 29;
	return (size_t)h;
}

static void
set_insert(struct devino *set, size_t cap, dev_t dev, ino_t ino)
{
	size_t i = devino_hash(dev, ino) & (cap - 1);
	while (set[i].used)
		i = (i + 1) & (cap - 1);
	set[i] = (struct devino){.dev = dev, .ino = ino, .used = 1};
}

/* 1 the first time (dev, ino) is seen, 0 afterwards. */
static int
seen_first(struct scan *s, dev_t dev, ino_t ino)
{
	int first = 1;

	pthread_mutex_lock(&s->seen_mu);
	if (s->set_n * 2 >= s->set_cap) {
		size_t cap = s->set_cap ? s->set_cap * 2 : SEEN_INITIAL_CAP;
		struct devino *set = xcalloc(cap, sizeof(*set));
		for (size_t i = 0; i < s->set_cap; i++) {
			if (s->set[i].used)
				set_insert(set, cap, s->set[i].dev, s->set[i].ino);
		}
		free(s->set);
		s->set = set;
		s->set_cap = cap;
	}
	size_t i = devino_hash(dev, ino) & (s->set_cap - 1);
	for (; s->set[i].used; i = (i + 1) & (s->set_cap - 1)) {
		if (s->set[i].dev == dev && s->set[i].ino == ino) {
			first = 0;
			break;
		}
	}
	if (first) {
		s->set[i] = (struct devino){.dev = dev, .ino = ino, .used = 1};
		s->set_n++;
	}
	pthread_mutex_unlock(&s->seen_mu);
	return first;
}

/* --- errors --------------------------------------------------------------- */

/* The path of d (relative to the root; "." for the root) plus "/name". */
static char *
node_path(const struct dnode *d, const char *name)
{
	size_t len = 0, parts = 0;
	const struct dnode *a;

	if (name) {
		len += strlen(name);
		parts++;
	}
	for (a = d; a->depth > 0; a = a->parent) {
		len += strlen(a->name);
		parts++;
	}
	if (parts == 0)
		return xstrdup(".");
	len += parts - 1; /* the separators */
	char *path = xmalloc(len + 1), *p = path + len;
	*p = '\0';
	if (name) {
		p -= strlen(name);
		memcpy(p, name, strlen(name));
	}
	for (a = d; a->depth > 0; a = a->parent) {
		if (p != path + len)
			*--p = '/';
		p -= strlen(a->name);
		memcpy(p, a->name, strlen(a->name));
	}
	return path;
}

static void
note_error(struct worker *w, const struct dnode *d, const char *name, int errnum)
{
	struct scan *s = w->s;

	w->t.errors++;
	pthread_mutex_lock(&s->err_mu);
	if (!s->have_error) {
		_cleanup_free_ char *path = node_path(d, name);
		_cleanup_free_ char *msg = xasprintf("%s: %s", path, strerror(errnum));
		size_t len = strlen(msg), cap = sizeof(s->first_error);
		if (len < cap) {
			memcpy(s->first_error, msg, len + 1);
		} else {
			/* Keep the end: the reason and the deepest part of the path. */
			memcpy(s->first_error, "...", 3);
			memcpy(s->first_error + 3, msg + len - (cap - 4), cap - 3);
		}
		s->have_error = 1;
	}
	pthread_mutex_unlock(&s->err_mu);
}

static int
is_vanished(int errnum)
{
	/* Gone, or replaced by something that is not the directory we listed. */
	return errnum == ENOENT || errnum == ENOTDIR || errnum == ELOOP || errnum == ESTALE;
}

/* --- descriptors ---------------------------------------------------------- */

static void
ring_put(struct worker *w, struct dnode *n, int fd)
{
	struct slot *sl = &w->ring[n->depth % w->nring];

	if (sl->node) {
		close(sl->fd);
		node_unref(sl->node);
	}
	node_ref(n);
	sl->node = n;
	sl->fd = fd;
}

static void
ring_flush(struct worker *w)
{
	for (size_t i = 0; i < w->nring; i++) {
		if (w->ring[i].node) {
			close(w->ring[i].fd);
			node_unref(w->ring[i].node);
			w->ring[i].node = NULL;
		}
	}
}

static int
ring_fd(struct worker *w, const struct dnode *n)
{
	if (n->depth == 0)
		return w->s->rootfd;
	const struct slot *sl = &w->ring[n->depth % w->nring];
	return sl->node == n ? sl->fd : -1;
}

/*
 * The descriptor of directory d, owned by the worker's ring: opened from the
 * nearest ancestor the ring still holds. Returns -1 with errno (ESTALE when
 * a directory on the way is no longer the one that was listed).
 */
static int
worker_dirfd(struct worker *w, struct dnode *d)
{
	size_t k = 0;
	struct dnode *a = d;
	int fd;

	while ((fd = ring_fd(w, a)) < 0) {
		if (k == w->chain_cap) {
			w->chain_cap = w->chain_cap ? w->chain_cap * 2 : 64;
			w->chain = xrealloc(w->chain, w->chain_cap * sizeof(*w->chain));
		}
		w->chain[k++] = a;
		a = a->parent;
	}
	while (k > 0) {
		struct dnode *x = w->chain[--k];
		struct stat st;
		if (k == 0 && w->s->o.hook)
			w->s->o.hook(w->s->o.hook_arg, SCAN_HOOK_OPEN, fd, x->name);
		int nfd = openat(fd, x->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0)
			return -1;
		if (fstat(nfd, &st) < 0) {
			int e = errno;
			close(nfd);
			errno = e;
			return -1;
		}
		if (st.st_dev != x->dev || st.st_ino != x->ino) {
			close(nfd);
			errno = ESTALE;
			return -1;
		}
		ring_put(w, x, nfd);
		fd = nfd;
	}
	return fd;
}

int
scan_probe_contains(void *arg, const char *name, const char *rel)
{
	int dirfd = *(const int *)arg;
	_cleanup_close_ int fd =
	    openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	char comp[256];
	struct stat st;

	if (fd < 0)
		return 0;
	for (const char *p = rel;;) {
		size_t len = strcspn(p, "/");
		if (len == 0 || len >= sizeof(comp))
			return 0;
		memcpy(comp, p, len);
		comp[len] = '\0';
		if (p[len] == '\0')
			return fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			       !S_ISDIR(st.st_mode);
		int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0)
			return 0;
		close(fd);
		fd = next;
		p += len + 1;
	}
}

/* --- listing -------------------------------------------------------------- */

static void
tally_add(struct tally *t, enum disk_cat cat, const struct stat *st)
{
	t->bytes[cat] += (uint64_t)st->st_blocks * 512;
	t->apparent[cat] += st->st_size > 0 ? (uint64_t)st->st_size : 0;
	t->entries++;
	if (S_ISDIR(st->st_mode))
		t->dirs++;
	else
		t->files[cat]++;
}

static int
scan_stopped(struct scan *s)
{
	return __atomic_load_n(&s->stop, __ATOMIC_RELAXED);
}

/*
 * Is the directory name (in fd, lstat'ed as *st) the root of another mount:
 * another file system, or a bind mount (same st_dev, other mount id)?
 */
static int
is_mount_point(struct scan *s, int fd, const char *name, const struct stat *st)
{
	struct statx stx;

	if (st->st_dev != s->rootdev)
		return 1;
	if (!s->root_mnt_known)
		return 0;
	if (statx(fd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_STATX_DONT_SYNC,
	          STATX_MNT_ID, &stx) < 0 ||
	    !(stx.stx_mask & STATX_MNT_ID))
		return 0; /* gone (the open will tell), or unknown */
	return stx.stx_mnt_id != s->root_mnt_id;
}

/* One entry of directory d (open as fd). Returns -1 when the scan must stop. */
static int
worker_entry(struct worker *w, struct dnode *d, int fd, const char *name)
{
	struct scan *s = w->s;
	struct stat st;
	struct cls_ctx child;

	if (s->o.hook)
		s->o.hook(s->o.hook_arg, SCAN_HOOK_STAT, fd, name);
	if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT) < 0) {
		if (errno == ENOENT)
			w->t.vanished++;
		else
			note_error(w, d, name, errno);
		return 0;
	}
	if (s->o.max_entries &&
	    __atomic_add_fetch(&s->seen, 1, __ATOMIC_RELAXED) > s->o.max_entries) {
		__atomic_store_n(&s->stop, 1, __ATOMIC_RELAXED);
		return -1;
	}

	int is_dir = S_ISDIR(st.st_mode);
	int mount = is_dir && is_mount_point(s, fd, name, &st);
	/* Only the root's own subdirectories are probed for bin/spark-class. */
	classify_probe_fn probe = d->depth == 0 && is_dir && !mount ? scan_probe_contains : NULL;
	enum disk_cat cat = classify_entry(&d->cls, name, is_dir, probe, &fd, &child);

	/* Each inode once: files with several links. Directories cannot be
	 * linked; they show up twice only through bind mounts, which are
	 * mount points when mount ids are known, else deduplicated too. */
	if ((st.st_nlink > 1 && !is_dir) || (is_dir && !s->root_mnt_known)) {
		if (!seen_first(s, st.st_dev, st.st_ino)) {
			w->t.dedup++;
			return 0;
		}
	}
	tally_add(&w->t, cat, &st);
	if (!is_dir)
		return 0;
	if (mount) {
		w->t.mounts++;
		return 0;
	}
	if (w->nkids == w->kids_cap) {
		w->kids_cap = w->kids_cap ? w->kids_cap * 2 : 64;
		w->kids = xrealloc(w->kids, w->kids_cap * sizeof(*w->kids));
	}
	w->kids[w->nkids++] = node_new(d, name, &st, &child);
	return 0;
}

static void
worker_list(struct worker *w, struct dnode *d)
{
	int fd = worker_dirfd(w, d);

	if (fd < 0) {
		if (is_vanished(errno))
			w->t.vanished++;
		else
			note_error(w, d, NULL, errno);
		return;
	}
	for (;;) {
		long n = syscall(SYS_getdents64, fd, w->buf, DENTS_BUF);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (is_vanished(errno))
				w->t.vanished++;
			else
				note_error(w, d, NULL, errno);
			return;
		}
		if (n == 0)
			return;
		for (long off = 0; off < n;) {
			const struct dent64 *de = (const void *)(w->buf + off);
			const char *name = de->d_name;
			off += de->d_reclen;
			if (name[0] == '.' &&
			    (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
				continue;
			if (worker_entry(w, d, fd, name) < 0)
				return;
		}
	}
}

/* --- workers -------------------------------------------------------------- */

static void *worker_main(void *arg);

/* With s->mu held, by worker 0 only: start the helpers now? */
static int
want_helpers(struct scan *s)
{
	if (s->spawned || s->nthreads < 2 || s->n < 2)
		return 0;
	if (!s->auto_threads)
		return 1;
	return s->w[0].t.entries >= PAR_MIN_ENTRIES || s->n >= PAR_MIN_PENDING;
}

static void
spawn_helpers(struct scan *s)
{
	sigset_t all, old;

	/* Helpers take no signals: they stay with the caller's thread. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (int i = 1; i < s->nthreads; i++) {
		if (pthread_create(&s->w[i].thread, NULL, worker_main, &s->w[i]) != 0)
			break;
		s->w[i].started = 1;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static void
worker_run(struct worker *w)
{
	struct scan *s = w->s;

	for (;;) {
		pthread_mutex_lock(&s->mu);
		while (s->n == 0 && s->active > 0 && !scan_stopped(s))
			pthread_cond_wait(&s->cv, &s->mu);
		if (s->n == 0 || scan_stopped(s)) {
			pthread_cond_broadcast(&s->cv);
			pthread_mutex_unlock(&s->mu);
			return;
		}
		struct dnode *d = s->stack[--s->n];
		s->active++;
		pthread_mutex_unlock(&s->mu);

		worker_list(w, d);

		int spawn = 0;
		pthread_mutex_lock(&s->mu);
		if (scan_stopped(s)) {
			for (size_t i = 0; i < w->nkids; i++)
				node_unref(w->kids[i]);
		} else {
			if (s->n + w->nkids > s->cap) {
				s->cap = (s->n + w->nkids) * 2;
				s->stack = xrealloc(s->stack, s->cap * sizeof(*s->stack));
			}
			/* Reversed, so that the first entry listed is the next popped. */
			for (size_t i = w->nkids; i > 0; i--)
				s->stack[s->n++] = w->kids[i - 1];
		}
		w->nkids = 0;
		s->active--;
		if (w == &s->w[0] && want_helpers(s)) {
			s->spawned = 1;
			spawn = 1;
		}
		if (s->n > 0 || s->active == 0 || scan_stopped(s))
			pthread_cond_broadcast(&s->cv);
		pthread_mutex_unlock(&s->mu);
		node_unref(d);
		if (spawn)
			spawn_helpers(s);
	}
}

static void *
worker_main(void *arg)
{
	worker_run(arg);
	return NULL;
}

/* --- entry point ---------------------------------------------------------- */

static int
default_threads(void)
{
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	return cpus >= 2 ? 2 : 1;
}

static void
merge(struct scan_result *r, const struct tally *t)
{
	for (int c = 0; c < CAT_COUNT; c++) {
		r->bytes[c] += t->bytes[c];
		r->apparent[c] += t->apparent[c];
		r->files[c] += t->files[c];
		r->total_bytes += t->bytes[c];
		r->total_apparent += t->apparent[c];
	}
	r->entries += t->entries;
	r->dirs += t->dirs;
	r->vanished += t->vanished;
	r->errors += t->errors;
	r->mounts_skipped += t->mounts;
	r->hardlinks_deduped += t->dedup;
}

int
scan_sandbox(const char *root, const struct scan_opts *opts, struct scan_result *ret,
             struct spx_error *err)
{
	int64_t t0 = now_mono_ns();
	struct stat st;
	struct cls_ctx cls;

	memset(ret, 0, sizeof(*ret));
	/* The root is resolved as given (a `latest` symlink is fine). */
	_cleanup_close_ int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return spx_error_set(err, errno, "scan '%s'", root);
	if (fstat(rootfd, &st) < 0)
		return spx_error_set(err, errno, "scan '%s'", root);

	struct scan *s = xcalloc(1, sizeof(*s));
	if (opts)
		s->o = *opts;
	s->rootfd = rootfd;
	s->rootdev = st.st_dev;
	struct statx stx;
	if (statx(rootfd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_MNT_ID, &stx) == 0 &&
	    (stx.stx_mask & STATX_MNT_ID)) {
		s->root_mnt_id = stx.stx_mnt_id;
		s->root_mnt_known = 1;
	}
	s->auto_threads = s->o.threads <= 0;
	s->nthreads = s->auto_threads ? default_threads() : s->o.threads;
	if (s->nthreads > SCAN_MAX_THREADS)
		s->nthreads = SCAN_MAX_THREADS;
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	pthread_mutex_init(&s->seen_mu, NULL);
	pthread_mutex_init(&s->err_mu, NULL);
	size_t nring = FD_BUDGET / (size_t)s->nthreads;
	for (int i = 0; i < s->nthreads; i++) {
		struct worker *w = &s->w[i];
		w->s = s;
		w->nring = nring < FD_RING_MIN ? FD_RING_MIN : nring;
		w->ring = xcalloc(w->nring, sizeof(*w->ring));
		w->buf = xmalloc(DENTS_BUF);
	}

	/* The root counts like any directory: `other`, as du counts it. */
	classify_root(&cls);
	tally_add(&s->w[0].t, CAT_OTHER, &st);
	if (!s->root_mnt_known)
		seen_first(s, st.st_dev, st.st_ino);
	s->seen = 1;
	s->cap = 64;
	s->stack = xmalloc(s->cap * sizeof(*s->stack));
	s->stack[s->n++] = node_new(NULL, "", &st, &cls);

	worker_run(&s->w[0]);
	ret->threads = 1;
	for (int i = 1; i < s->nthreads; i++) {
		if (s->w[i].started) {
			pthread_join(s->w[i].thread, NULL);
			ret->threads++;
		}
	}

	/* Release what a stopped scan left pending, then the rings: the last
	 * references to every node. */
	while (s->n > 0)
		node_unref(s->stack[--s->n]);
	for (int i = 0; i < s->nthreads; i++) {
		struct worker *w = &s->w[i];
		ring_flush(w);
		merge(ret, &w->t);
		free(w->ring);
		free(w->buf);
		free(w->chain);
		free(w->kids);
	}
	ret->truncated = s->stop;
	memcpy(ret->first_error, s->first_error, sizeof(ret->first_error));
	free(s->stack);
	free(s->set);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->seen_mu);
	pthread_mutex_destroy(&s->err_mu);
	free(s);
	ret->scan_ns = (uint64_t)(now_mono_ns() - t0);
	return 0;
}
