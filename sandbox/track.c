/*
 * The incremental usage tracker (track.h).
 *
 * Index. Every directory entered is a struct tdir: its entries in an open
 * addressing hash table (name -> struct tent *, linear probing), its inotify
 * watch, its classification context, its place in the list of all
 * directories. A directory's own entry (the one in its parent's table) is
 * the struct tent allocated right after its struct tdir, so the parent's
 * table leads straight to it. A file costs one allocation (32 bytes plus
 * its name) and one table slot. Inodes with several links are counted
 * through a link table keyed by inode (one record per inode, however many
 * names), and the first time a name shows up with links for an inode the
 * index holds as a plain file, an inode index of plain files is built to
 * find it (kept from then on).
 *
 * Totals. Every entry's contribution (allocated bytes, apparent bytes, one
 * file or directory, in its category) is added when it enters the index and
 * subtracted when it leaves or changes; nothing ever sums the index.
 *
 * Work. inotify events only mark names: the entry (or a placeholder for a
 * name the index does not hold yet) is flagged and queued once, however
 * many events name it. track_refresh() pops the queue and resolves each
 * name against the file system: statx relative to its directory's
 * descriptor, then update the entry in place, or remove it (with its
 * subtree), or add it; a new directory is opened, verified, watched (through
 * /proc/self/fd, so the watch is on the directory that was stat'ed), then
 * queued to be listed. Listing a directory resolves every name met, then
 * queues the names of the table it did not meet, so a listing also finds
 * what disappeared. A reconciliation lists every directory again, one at a
 * time, behind the queued work. Directory descriptors come from a small
 * cache; a directory not in it is opened from its nearest cached ancestor,
 * one O_NOFOLLOW component at a time, each checked against the (dev, ino)
 * the index has for it. When that fails, the directory is not where the
 * index thinks: its own entry is queued in its parent (which finds out what
 * happened) and it is flagged to be listed again if it turns out unchanged.
 *
 * Lifetimes. A queued entry may be dropped (its directory removed) before
 * it is popped: it is then only flagged dead, and freed when popped, so the
 * queues never hold a dangling pointer.
 */
#include "track.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#define WATCH_MASK                                                                                 \
	(IN_CREATE | IN_DELETE | IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_FROM | IN_MOVED_TO |        \
	 IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_EXCL_UNLINK)
#define EVBUF       (64 * 1024) /* one read() of events */
#define DENTS_BUF   (32 * 1024) /* one getdents64() */
#define FD_CACHE    32          /* directory descriptors kept open */
#define TAB_MIN     8
#define DRAIN_MAX   65536 /* events handled by one drain, at most */
#define DRAIN_EVERY 8192  /* units of work between drains in a long refresh */
#define QUEUE_KEEP  4096  /* an empty queue keeps at most this capacity */
#define LIST_STEP   1024  /* names one list_step() resolves at most */

/* Entry flags. */
enum {
	E_DIR = 1 << 0,     /* a directory: counts in dirs, not files */
	E_TDIR = 1 << 1,    /* ... entered: a struct tdir precedes the entry */
	E_MOUNT = 1 << 2,   /* ... the root of another mount: counted, not entered */
	E_LINKED = 1 << 3,  /* counted through the link table */
	E_NEW = 1 << 4,     /* placeholder: named by an event, not stat'ed, counts nothing */
	E_QSTAT = 1 << 5,   /* on the work queue */
	E_QLIST = 1 << 6,   /* (E_TDIR) on the list queue */
	E_DEAD = 1 << 7,    /* dropped while queued: freed when dequeued */
	E_SEEN = 1 << 8,    /* met by the listing of its directory under way */
	E_FOREIGN = 1 << 9, /* another st_dev than its directory: never linked */
};

#define E_KIND (E_DIR | E_TDIR | E_MOUNT)

struct tent {
	uint64_t ino;
	uint64_t size;   /* st_size */
	uint64_t blocks; /* st_blocks (512 bytes) */
	uint16_t flags;
	uint8_t cat;
	char name[];
};

/* Directory flags. */
enum {
	D_RELIST = 1 << 0, /* events may have been missed: list again when confirmed */
};

struct tdir {
	struct tdir *parent;      /* NULL for the root */
	struct tdir *prev, *next; /* every live directory, oldest first */
	struct tent **slots;      /* the entries: NULL is an empty slot */
	uint32_t cap, n;
	int wd;     /* inotify watch, -1 if none */
	int fdslot; /* slot in the descriptor cache, -1 if none */
	uint32_t depth;
	uint32_t recon_gen; /* reconciliation that listed it last */
	dev_t dev;
	struct cls_ctx cls; /* context of its entries */
	uint8_t dflags;
	/* followed by the struct tent of its own entry, and that entry's name */
};

_Static_assert(sizeof(struct tdir) % _Alignof(struct tent) == 0, "tent after tdir");

struct work {
	struct tdir *dir; /* the directory holding e; NULL for the root's own entry */
	struct tent *e;
};

struct link {
	uint64_t ino, size, blocks;
	struct work *v; /* its names in the index */
	uint32_t names; /* how many; 0: a free slot */
	uint32_t cap;
	uint8_t cat;
};

struct wdslot {
	int wd;
	struct tdir *d; /* NULL: free */
};

struct fdslot {
	struct tdir *d;
	int fd;
};

struct tally {
	uint64_t bytes[CAT_COUNT], apparent[CAT_COUNT], files[CAT_COUNT];
	uint64_t entries, dirs, mounts, dedup;
};

struct track {
	char *root;
	int rootfd, ifd;
	int proc_ok; /* watches through /proc/self/fd/N */
	dev_t rootdev;
	uint64_t root_mnt_id;
	int root_mnt_known;
	struct track_opts o;

	struct tdir *rootdir;
	struct tdir *head, *tail; /* every live directory */
	uint64_t ndirs, nnames, watches;

	struct wdslot *wds; /* watch descriptor -> directory */
	size_t wd_cap, wd_n;

	struct work *q; /* names to resolve (a ring) */
	size_t q_cap, q_head, q_len;
	struct tdir **lq; /* directories to list (a ring) */
	size_t lq_cap, lq_head, lq_len;

	struct tdir *listing; /* the directory being listed, if any */
	int list_fd, relisting;
	char *dbuf;
	size_t dlen, doff;

	struct fdslot fdc[FD_CACHE];
	unsigned fdc_hand;
	struct tdir **chain; /* scratch: directories to open on the way down */
	size_t chain_cap;
	struct tdir **stack; /* scratch: directories to drop */
	size_t stack_cap;

	struct link *links; /* inodes with several names */
	size_t link_cap, link_n;
	struct work *inos; /* plain files by inode, built at the first new link */
	size_t ino_cap, ino_n;
	int inomap;

	/* Mount points: no watch of ours sees their own directory change,
	 * so every refresh re-stats them (there are few). */
	struct work *mnts;
	size_t mnt_n, mnt_cap;

	struct tally tot;
	uint64_t vanished, errors;
	char first_error[256];

	char *ebuf; /* events read, not handled yet: ebuf[eoff..elen) */
	size_t elen, eoff;

	uint32_t recon_gen;
	struct tdir *cursor; /* next directory the reconciliation lists */
	int reconciling, lost, unavail;

	size_t budget, used, since_drain;
	uint64_t mem;
	struct track_stats st; /* the counters only */
};

/* --- hashing -------------------------------------------------------------- */

static uint64_t
mix64(uint64_t x)
{
	x ^= x >> 31;
	x *= 0xbf58476d1ce4e5b9ULL;
	x ^= x >> 29;
	x *= 0x94d049bb133111ebULL;
	x ^= x >> 32;
	return x;
}

static uint64_t
name_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	return mix64(h);
}

/* --- entries and directories ----------------------------------------------- */

static struct tent *
dir_ent(struct tdir *d)
{
	return (struct tent *)(d + 1);
}

static struct tdir *
ent_dir(struct tent *e)
{
	return (struct tdir *)e - 1;
}

static size_t
ent_size(size_t namelen)
{
	return offsetof(struct tent, name) + namelen + 1;
}

static struct tent *
ent_new(struct track *t, const char *name)
{
	size_t len = strlen(name);
	struct tent *e = xmalloc(ent_size(len));

	memset(e, 0, offsetof(struct tent, name));
	memcpy(e->name, name, len + 1);
	t->mem += ent_size(len);
	return e;
}

static struct tdir *
tdir_new(struct track *t, const char *name)
{
	size_t len = strlen(name);
	struct tdir *d = xcalloc(1, sizeof(*d) + ent_size(len));

	memcpy(dir_ent(d)->name, name, len + 1);
	d->wd = -1;
	d->fdslot = -1;
	t->mem += sizeof(*d) + ent_size(len);
	return d;
}

static void
ent_free(struct track *t, struct tent *e)
{
	size_t size = ent_size(strlen(e->name));
	if (e->flags & E_TDIR) {
		t->mem -= size + sizeof(struct tdir);
		free(ent_dir(e));
	} else {
		t->mem -= size;
		free(e);
	}
}

/* Free e now, or flag it dead if a queue still holds it. */
static void
ent_release(struct track *t, struct tent *e)
{
	if (e->flags & (E_QSTAT | E_QLIST))
		e->flags |= E_DEAD;
	else
		ent_free(t, e);
}

/* --- a directory's table ----------------------------------------------------- */

static struct tent *
tab_find(const struct tdir *d, const char *name)
{
	if (d->cap == 0)
		return NULL;
	size_t mask = d->cap - 1;
	for (size_t i = name_hash(name) & mask;; i = (i + 1) & mask) {
		struct tent *e = d->slots[i];
		if (!e)
			return NULL;
		if (strcmp(e->name, name) == 0)
			return e;
	}
}

static void
tab_place(struct tent **slots, size_t cap, struct tent *e)
{
	size_t i = name_hash(e->name) & (cap - 1);
	while (slots[i])
		i = (i + 1) & (cap - 1);
	slots[i] = e;
}

static void
tab_resize(struct track *t, struct tdir *d, uint32_t cap)
{
	struct tent **old = d->slots;
	uint32_t ocap = d->cap;

	d->slots = xcalloc(cap, sizeof(*d->slots));
	d->cap = cap;
	for (uint32_t i = 0; i < ocap; i++) {
		if (old[i])
			tab_place(d->slots, cap, old[i]);
	}
	free(old);
	t->mem += (uint64_t)cap * sizeof(*d->slots);
	t->mem -= (uint64_t)ocap * sizeof(*d->slots);
}

static void
tab_insert(struct track *t, struct tdir *d, struct tent *e)
{
	if ((d->n + 1) * 4 > d->cap * 3)
		tab_resize(t, d, d->cap ? d->cap * 2 : TAB_MIN);
	tab_place(d->slots, d->cap, e);
	d->n++;
	t->nnames++;
}

/* The slot holding exactly e. */
static size_t
tab_slot(const struct tdir *d, const struct tent *e)
{
	size_t mask = d->cap - 1, i = name_hash(e->name) & mask;
	while (d->slots[i] != e)
		i = (i + 1) & mask;
	return i;
}

static void
tab_remove(struct track *t, struct tdir *d, struct tent *e)
{
	size_t mask = d->cap - 1, i = tab_slot(d, e);

	/* Backward shift: no tombstones, probes stay short. */
	for (size_t j = (i + 1) & mask; d->slots[j]; j = (j + 1) & mask) {
		size_t home = name_hash(d->slots[j]->name) & mask;
		if (((j - home) & mask) >= ((j - i) & mask)) {
			d->slots[i] = d->slots[j];
			i = j;
		}
	}
	d->slots[i] = NULL;
	d->n--;
	t->nnames--;
	if (d->cap > TAB_MIN && d->n * 8 < d->cap)
		tab_resize(t, d, d->cap / 2);
}

static void
tab_replace(struct tdir *d, struct tent *old, struct tent *e)
{
	d->slots[tab_slot(d, old)] = e;
}

/* --- watch descriptors ------------------------------------------------------ */

static struct tdir *
wd_find(const struct track *t, int wd)
{
	if (t->wd_cap == 0)
		return NULL;
	size_t mask = t->wd_cap - 1;
	for (size_t i = mix64((uint64_t)wd) & mask; t->wds[i].d; i = (i + 1) & mask) {
		if (t->wds[i].wd == wd)
			return t->wds[i].d;
	}
	return NULL;
}

static void
wd_place(struct wdslot *slots, size_t cap, int wd, struct tdir *d)
{
	size_t i = mix64((uint64_t)wd) & (cap - 1);
	while (slots[i].d)
		i = (i + 1) & (cap - 1);
	slots[i] = (struct wdslot){.wd = wd, .d = d};
}

static void
wd_put(struct track *t, int wd, struct tdir *d)
{
	if ((t->wd_n + 1) * 4 > t->wd_cap * 3) {
		size_t cap = t->wd_cap ? t->wd_cap * 2 : 64;
		struct wdslot *slots = xcalloc(cap, sizeof(*slots));
		for (size_t i = 0; i < t->wd_cap; i++) {
			if (t->wds[i].d)
				wd_place(slots, cap, t->wds[i].wd, t->wds[i].d);
		}
		free(t->wds);
		t->wds = slots;
		t->wd_cap = cap;
	}
	wd_place(t->wds, t->wd_cap, wd, d);
	t->wd_n++;
}

static void
wd_del(struct track *t, int wd)
{
	size_t mask = t->wd_cap - 1, i = mix64((uint64_t)wd) & mask;

	while (t->wds[i].d && t->wds[i].wd != wd)
		i = (i + 1) & mask;
	if (!t->wds[i].d)
		return;
	for (size_t j = (i + 1) & mask; t->wds[j].d; j = (j + 1) & mask) {
		size_t home = mix64((uint64_t)t->wds[j].wd) & mask;
		if (((j - home) & mask) >= ((j - i) & mask)) {
			t->wds[i] = t->wds[j];
			i = j;
		}
	}
	t->wds[i].d = NULL;
	t->wd_n--;
}

/* --- queues ------------------------------------------------------------------ */

static void
q_push(struct track *t, struct tdir *d, struct tent *e)
{
	if (t->q_len == t->q_cap) {
		size_t cap = t->q_cap ? t->q_cap * 2 : 64;
		struct work *q = xmalloc(cap * sizeof(*q));
		for (size_t i = 0; i < t->q_len; i++)
			q[i] = t->q[(t->q_head + i) & (t->q_cap - 1)];
		free(t->q);
		t->q = q;
		t->q_cap = cap;
		t->q_head = 0;
	}
	t->q[(t->q_head + t->q_len) & (t->q_cap - 1)] = (struct work){.dir = d, .e = e};
	t->q_len++;
}

static int
q_pop(struct track *t, struct work *w)
{
	if (t->q_len == 0) {
		if (t->q_cap > QUEUE_KEEP) {
			/* A burst is over: give its memory back. */
			free(t->q);
			t->q = NULL;
			t->q_cap = t->q_head = 0;
		}
		return 0;
	}
	*w = t->q[t->q_head];
	t->q_head = (t->q_head + 1) & (t->q_cap - 1);
	t->q_len--;
	return 1;
}

static void
lq_push(struct track *t, struct tdir *d)
{
	if (t->lq_len == t->lq_cap) {
		size_t cap = t->lq_cap ? t->lq_cap * 2 : 16;
		struct tdir **q = xmalloc(cap * sizeof(*q));
		for (size_t i = 0; i < t->lq_len; i++)
			q[i] = t->lq[(t->lq_head + i) & (t->lq_cap - 1)];
		free(t->lq);
		t->lq = q;
		t->lq_cap = cap;
		t->lq_head = 0;
	}
	t->lq[(t->lq_head + t->lq_len) & (t->lq_cap - 1)] = d;
	t->lq_len++;
}

static struct tdir *
lq_pop(struct track *t)
{
	if (t->lq_len == 0)
		return NULL;
	struct tdir *d = t->lq[t->lq_head];
	t->lq_head = (t->lq_head + 1) & (t->lq_cap - 1);
	t->lq_len--;
	return d;
}

/* Queue e (in directory d; NULL for the root's own entry) to be resolved. */
static void
mark(struct track *t, struct tdir *d, struct tent *e)
{
	if (e->flags & E_QSTAT)
		return;
	e->flags |= E_QSTAT;
	q_push(t, d, e);
}

/* Queue d's own entry (its size, its existence, its kind) in its parent. */
static void
mark_self(struct track *t, struct tdir *d)
{
	mark(t, d->parent, dir_ent(d));
}

static void
list_queue(struct track *t, struct tdir *d)
{
	struct tent *e = dir_ent(d);

	d->dflags &= ~D_RELIST;
	if (e->flags & E_QLIST)
		return;
	e->flags |= E_QLIST;
	lq_push(t, d);
}

/* --- totals ------------------------------------------------------------------ */

/* Add (sign > 0) or subtract one counted inode. */
static void
count_inode(struct track *t, int sign, unsigned cat, uint64_t blocks, uint64_t size, unsigned kind)
{
	uint64_t m = sign > 0 ? 1 : UINT64_MAX; /* modular: m * v is v or -v */

	t->tot.bytes[cat] += m * (blocks * 512);
	t->tot.apparent[cat] += m * size;
	t->tot.entries += m;
	if (kind & E_DIR)
		t->tot.dirs += m;
	else
		t->tot.files[cat] += m;
	if (kind & E_MOUNT)
		t->tot.mounts += m;
}

static void
count_resize(struct track *t, unsigned cat, uint64_t oblocks, uint64_t osize, uint64_t blocks,
             uint64_t size)
{
	t->tot.bytes[cat] += (blocks - oblocks) * 512;
	t->tot.apparent[cat] += size - osize;
}

/* --- inodes with several names --------------------------------------------- */

static struct link *
link_find(const struct track *t, uint64_t ino)
{
	if (t->link_cap == 0)
		return NULL;
	size_t mask = t->link_cap - 1;
	for (size_t i = mix64(ino) & mask; t->links[i].names; i = (i + 1) & mask) {
		if (t->links[i].ino == ino)
			return &t->links[i];
	}
	return NULL;
}

/* A new record for ino (names 0: the caller fills it in at once). */
static struct link *
link_new(struct track *t, uint64_t ino)
{
	if ((t->link_n + 1) * 4 > t->link_cap * 3) {
		size_t cap = t->link_cap ? t->link_cap * 2 : 64;
		struct link *links = xcalloc(cap, sizeof(*links));
		for (size_t i = 0; i < t->link_cap; i++) {
			if (!t->links[i].names)
				continue;
			size_t j = mix64(t->links[i].ino) & (cap - 1);
			while (links[j].names)
				j = (j + 1) & (cap - 1);
			links[j] = t->links[i];
		}
		free(t->links);
		t->mem += (cap - t->link_cap) * sizeof(*links);
		t->links = links;
		t->link_cap = cap;
	}
	size_t mask = t->link_cap - 1, i = mix64(ino) & mask;
	while (t->links[i].names)
		i = (i + 1) & mask;
	t->links[i] = (struct link){.ino = ino};
	t->link_n++;
	return &t->links[i];
}

static void
link_drop(struct track *t, struct link *l)
{
	size_t mask = t->link_cap - 1, i = (size_t)(l - t->links);

	for (size_t j = (i + 1) & mask; t->links[j].names; j = (j + 1) & mask) {
		size_t home = mix64(t->links[j].ino) & mask;
		if (((j - home) & mask) >= ((j - i) & mask)) {
			t->links[i] = t->links[j];
			i = j;
		}
	}
	t->links[i] = (struct link){0}; /* its names array moved, or was freed */
	t->link_n--;
}

/* e, a name in d, joins l. */
static void
link_join(struct track *t, struct link *l, struct tdir *d, struct tent *e)
{
	if (l->names == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 2;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->names] = (struct work){.dir = d, .e = e};
	if (l->names++ > 0)
		t->tot.dedup++;
	e->flags |= E_LINKED;
}

/* The linked name e leaves the index. */
static void
link_leave(struct track *t, struct tent *e)
{
	struct link *l = link_find(t, e->ino);

	if (!l)
		return;
	for (uint32_t i = 0; i < l->names; i++) {
		if (l->v[i].e == e) {
			l->v[i] = l->v[--l->names];
			break;
		}
	}
	if (l->names > 0) {
		t->tot.dedup--;
		/* The inode may have changed through the name that left (its
		 * events then resolve to nothing): re-stat one that remains. */
		mark(t, l->v[0].dir, l->v[0].e);
		return;
	}
	count_inode(t, -1, l->cat, l->blocks, l->size, 0);
	free(l->v);
	l->v = NULL;
	l->cap = 0;
	link_drop(t, l);
}

/* --- plain files by inode ---------------------------------------------------- */

static int
is_plain_file(const struct tent *e)
{
	return !(e->flags & (E_DIR | E_NEW | E_LINKED | E_FOREIGN));
}

static void
ino_place(struct work *slots, size_t cap, struct tdir *d, struct tent *e)
{
	size_t i = mix64(e->ino) & (cap - 1);
	while (slots[i].e)
		i = (i + 1) & (cap - 1);
	slots[i] = (struct work){.dir = d, .e = e};
}

/* Index the plain file e of d by inode (once the index exists). */
static void
ino_put(struct track *t, struct tdir *d, struct tent *e)
{
	if (!t->inomap)
		return;
	if ((t->ino_n + 1) * 4 > t->ino_cap * 3) {
		size_t cap = t->ino_cap ? t->ino_cap * 2 : 1024;
		struct work *slots = xcalloc(cap, sizeof(*slots));
		for (size_t i = 0; i < t->ino_cap; i++) {
			if (t->inos[i].e)
				ino_place(slots, cap, t->inos[i].dir, t->inos[i].e);
		}
		free(t->inos);
		t->mem += (cap - t->ino_cap) * sizeof(*slots);
		t->inos = slots;
		t->ino_cap = cap;
	}
	ino_place(t->inos, t->ino_cap, d, e);
	t->ino_n++;
}

static void
ino_del(struct track *t, struct tent *e)
{
	if (!t->inomap || t->ino_cap == 0)
		return;
	size_t mask = t->ino_cap - 1, i = mix64(e->ino) & mask;
	while (t->inos[i].e && t->inos[i].e != e)
		i = (i + 1) & mask;
	if (!t->inos[i].e)
		return;
	for (size_t j = (i + 1) & mask; t->inos[j].e; j = (j + 1) & mask) {
		size_t home = mix64(t->inos[j].e->ino) & mask;
		if (((j - home) & mask) >= ((j - i) & mask)) {
			t->inos[i] = t->inos[j];
			i = j;
		}
	}
	t->inos[i].e = NULL;
	t->ino_n--;
}

static int dir_fd(struct track *t, struct tdir *d);

/*
 * A plain file of the index that is inode ino now, if any. The inode index
 * is built the first time this is asked, and maintained from then on.
 * Inode numbers are reused at once: a candidate is checked with a statx
 * (an entry whose removal is still queued may carry the number of a file
 * created since); stale ones are queued to be resolved.
 */
static struct work
ino_find(struct track *t, uint64_t ino)
{
	struct work none = {0};

	if (!t->inomap) {
		t->inomap = 1;
		for (struct tdir *d = t->head; d; d = d->next) {
			for (uint32_t i = 0; i < d->cap; i++) {
				if (d->slots[i] && is_plain_file(d->slots[i]))
					ino_put(t, d, d->slots[i]);
			}
		}
	}
	if (t->ino_cap == 0)
		return none;
	size_t mask = t->ino_cap - 1;
	for (size_t i = mix64(ino) & mask; t->inos[i].e; i = (i + 1) & mask) {
		struct work c = t->inos[i];
		if (c.e->ino != ino)
			continue;
		struct statx stx;
		int fd = dir_fd(t, c.dir);
		t->st.stats++;
		if (fd >= 0 &&
		    statx(fd, c.e->name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT,
		          STATX_TYPE | STATX_INO, &stx) == 0 &&
		    stx.stx_ino == ino && !S_ISDIR(stx.stx_mode))
			return c;
		mark(t, c.dir, c.e);
	}
	return none;
}

/*
 * The new file e (stats and category set, not counted) has several links:
 * count its inode once, whatever name of it the index met first. A name of
 * it the index holds as a plain file (indexed when it had one link, or
 * created since under a reused inode number while an older record's names
 * wait to be resolved) joins the record too.
 */
static void
file_link(struct track *t, struct tdir *d, struct tent *e)
{
	e->flags |= E_LINKED; /* first: the inode index must not find e itself */
	struct work p = ino_find(t, e->ino);
	struct link *l = link_find(t, e->ino);

	if (!l) {
		l = link_new(t, e->ino);
		l->cat = p.e ? p.e->cat : e->cat;
		l->blocks = e->blocks;
		l->size = e->size;
		count_inode(t, 1, l->cat, l->blocks, l->size, 0);
	} else {
		count_resize(t, l->cat, l->blocks, l->size, e->blocks, e->size);
		l->blocks = e->blocks;
		l->size = e->size;
	}
	if (p.e) {
		ino_del(t, p.e);
		count_inode(t, -1, p.e->cat, p.e->blocks, p.e->size, 0);
		link_join(t, l, p.dir, p.e);
	}
	link_join(t, l, d, e);
}

static void
mnt_add(struct track *t, struct tdir *d, struct tent *e)
{
	if (t->mnt_n == t->mnt_cap) {
		t->mnt_cap = t->mnt_cap ? t->mnt_cap * 2 : 8;
		t->mnts = xrealloc(t->mnts, t->mnt_cap * sizeof(*t->mnts));
	}
	t->mnts[t->mnt_n++] = (struct work){.dir = d, .e = e};
}

static void
mnt_del(struct track *t, struct tent *e)
{
	for (size_t i = 0; i < t->mnt_n; i++) {
		if (t->mnts[i].e == e) {
			t->mnts[i] = t->mnts[--t->mnt_n];
			return;
		}
	}
}

/* Subtract what e contributes (it leaves the index). */
static void
uncount(struct track *t, struct tent *e)
{
	if (e->flags & E_NEW)
		return;
	if (e->flags & E_MOUNT)
		mnt_del(t, e);
	if (e->flags & E_LINKED) {
		link_leave(t, e);
		return;
	}
	if (is_plain_file(e))
		ino_del(t, e);
	count_inode(t, -1, e->cat, e->blocks, e->size, e->flags);
}

/* --- errors ------------------------------------------------------------------ */

/* d's path relative to the root ("." for the root), plus "/name". */
static char *
rel_path(const struct tdir *d, const char *name)
{
	size_t len = 0, parts = 0;
	const struct tdir *a;

	if (name) {
		len += strlen(name);
		parts++;
	}
	for (a = d; a && a->parent; a = a->parent) {
		len += strlen(dir_ent((struct tdir *)a)->name);
		parts++;
	}
	if (parts == 0)
		return xstrdup(".");
	len += parts - 1;
	char *path = xmalloc(len + 1), *p = path + len;
	*p = '\0';
	if (name) {
		p -= strlen(name);
		memcpy(p, name, strlen(name));
	}
	for (a = d; a && a->parent; a = a->parent) {
		const char *n = dir_ent((struct tdir *)a)->name;
		if (p != path + len)
			*--p = '/';
		p -= strlen(n);
		memcpy(p, n, strlen(n));
	}
	return path;
}

static void
note_error(struct track *t, const struct tdir *d, const char *name, int errnum)
{
	t->errors++;
	if (t->first_error[0])
		return;
	_cleanup_free_ char *path = rel_path(d, name);
	_cleanup_free_ char *msg = xasprintf("%s: %s", path, strerror(errnum));
	size_t len = strlen(msg), cap = sizeof(t->first_error);
	if (len < cap) {
		memcpy(t->first_error, msg, len + 1);
	} else {
		memcpy(t->first_error, "...", 3);
		memcpy(t->first_error + 3, msg + len - (cap - 4), cap - 3);
	}
}

static int
is_vanished(int errnum)
{
	return errnum == ENOENT || errnum == ENOTDIR || errnum == ELOOP || errnum == ESTALE;
}

/* --- descriptors -------------------------------------------------------------- */

static void
fdc_drop(struct track *t, struct tdir *d)
{
	if (d->fdslot < 0)
		return;
	close(t->fdc[d->fdslot].fd);
	t->fdc[d->fdslot].d = NULL;
	d->fdslot = -1;
}

static void
fdc_put(struct track *t, struct tdir *d, int fd)
{
	unsigned i = t->fdc_hand++ % FD_CACHE;

	if (t->fdc[i].d)
		fdc_drop(t, t->fdc[i].d);
	t->fdc[i] = (struct fdslot){.d = d, .fd = fd};
	d->fdslot = (int)i;
}

/*
 * A descriptor of directory d, owned by the cache (valid until the next
 * fdc_put): opened from the nearest cached ancestor, one O_NOFOLLOW
 * component at a time, each checked against the index. Returns -1 with
 * errno (ESTALE: a directory on the way is not the one indexed).
 */
static int
dir_fd(struct track *t, struct tdir *d)
{
	size_t k = 0;
	struct tdir *a = d;
	int fd;

	for (;;) {
		if (a == t->rootdir) {
			fd = t->rootfd;
			break;
		}
		if (a->fdslot >= 0) {
			fd = t->fdc[a->fdslot].fd;
			break;
		}
		if (k == t->chain_cap) {
			t->chain_cap = t->chain_cap ? t->chain_cap * 2 : 64;
			t->chain = xrealloc(t->chain, t->chain_cap * sizeof(*t->chain));
		}
		t->chain[k++] = a;
		a = a->parent;
	}
	while (k > 0) {
		struct tdir *x = t->chain[--k];
		struct stat st;
		int nfd =
		    openat(fd, dir_ent(x)->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (nfd < 0)
			return -1;
		if (fstat(nfd, &st) < 0 || st.st_dev != x->dev || st.st_ino != dir_ent(x)->ino) {
			close(nfd);
			errno = ESTALE;
			return -1;
		}
		fdc_put(t, x, nfd);
		fd = nfd;
	}
	return fd;
}

/* --- structure ------------------------------------------------------------------ */

static void lost(struct track *t);
static void ent_remove(struct track *t, struct tdir *d, struct tent *e);
static void list_abort(struct track *t);

static void
dirs_append(struct track *t, struct tdir *d)
{
	d->prev = t->tail;
	d->next = NULL;
	if (t->tail)
		t->tail->next = d;
	else
		t->head = d;
	t->tail = d;
	t->ndirs++;
}

/* d leaves the live directories: no watch, no descriptor, no listing. */
static void
dir_unlink(struct track *t, struct tdir *d)
{
	if (d->wd >= 0) {
		inotify_rm_watch(t->ifd, d->wd);
		wd_del(t, d->wd);
		d->wd = -1;
		t->watches--;
	}
	fdc_drop(t, d);
	if (t->cursor == d)
		t->cursor = d->next;
	if (d->prev)
		d->prev->next = d->next;
	else
		t->head = d->next;
	if (d->next)
		d->next->prev = d->prev;
	else
		t->tail = d->prev;
	t->ndirs--;
	if (t->listing == d) {
		close(t->list_fd);
		t->list_fd = -1;
		t->listing = NULL;
	}
}

/* Drop directory top and everything below it (top's own entry has already
 * left its parent's table and been subtracted). No recursion. */
static void
drop_tree(struct track *t, struct tdir *top)
{
	size_t n = 0;

	for (struct tdir *x = top; x; x = n > 0 ? t->stack[--n] : NULL) {
		dir_unlink(t, x);
		for (uint32_t i = 0; i < x->cap; i++) {
			struct tent *e = x->slots[i];
			if (!e)
				continue;
			uncount(t, e);
			t->nnames--;
			if (e->flags & E_TDIR) {
				if (n == t->stack_cap) {
					t->stack_cap = t->stack_cap ? t->stack_cap * 2 : 64;
					t->stack =
					    xrealloc(t->stack, t->stack_cap * sizeof(*t->stack));
				}
				t->stack[n++] = ent_dir(e);
			} else {
				ent_release(t, e);
			}
		}
		t->mem -= (uint64_t)x->cap * sizeof(*x->slots);
		free(x->slots);
		x->slots = NULL;
		x->cap = x->n = 0;
		ent_release(t, dir_ent(x));
	}
}

/* e (in d) leaves the index, with its subtree. */
static void
ent_remove(struct track *t, struct tdir *d, struct tent *e)
{
	tab_remove(t, d, e);
	uncount(t, e);
	if (e->flags & E_TDIR)
		drop_tree(t, ent_dir(e));
	else
		ent_release(t, e);
}

static int
is_ancestor(const struct tdir *a, const struct tdir *d)
{
	for (; d; d = d->parent) {
		if (d == a)
			return 1;
	}
	return 0;
}

/* Watch directory d, open as fd. Returns 0, or -1 (counted, flagged). */
static int
watch_dir(struct track *t, struct tdir *d, int fd)
{
	for (int attempt = 0; attempt < 2; attempt++) {
		int wd;
		if (t->o.max_watches && t->watches >= t->o.max_watches) {
			errno = ENOSPC;
			wd = -1;
		} else if (t->proc_ok) {
			/* The descriptor's magic link leads to exactly the
			 * directory that was opened and checked. */
			char p[64];
			snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
			wd = inotify_add_watch(t->ifd, p, WATCH_MASK);
		} else {
			_cleanup_free_ char *rel = rel_path(d, NULL);
			_cleanup_free_ char *p = xasprintf("%s/%s", t->root, rel);
			wd = inotify_add_watch(t->ifd, p, WATCH_MASK | IN_DONT_FOLLOW);
		}
		if (wd < 0) {
			int e = errno;
			if (e == ENOSPC || e == ENOMEM)
				t->unavail = e;
			else if (!is_vanished(e))
				note_error(t, d, NULL, e);
			return -1;
		}
		struct tdir *other = wd_find(t, wd);
		if (!other) {
			d->wd = wd;
			wd_put(t, wd, d);
			t->watches++;
			return 0;
		}
		/* The same inode is indexed elsewhere: a directory that moved
		 * and whose old name has not been resolved yet. The old place
		 * goes (its watch with it), then watch again. If the old place
		 * holds the new one, the index is confused: reconcile. */
		if (other == d || is_ancestor(other, d) || !other->parent)
			break;
		struct tdir *op = other->parent;
		char oname[NAME_MAX + 1];
		snprintf(oname, sizeof(oname), "%s", dir_ent(other)->name);
		ent_remove(t, op, dir_ent(other));
		/* What that name holds now (if anything) is still to be found. */
		struct tent *ph = ent_new(t, oname);
		ph->flags = E_NEW;
		tab_insert(t, op, ph);
		mark(t, op, ph);
	}
	/* Once per loss: a reconciliation that meets it again gives up
	 * (never an endless loop of reconciliations). */
	if (t->lost)
		t->unavail = ELOOP;
	else
		lost(t);
	return -1;
}

/* --- resolving a name ------------------------------------------------------------- */

static void
root_restat(struct track *t)
{
	struct stat st;
	struct tent *e = dir_ent(t->rootdir);

	if (fstat(t->rootfd, &st) < 0)
		return;
	uint64_t size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
	count_resize(t, e->cat, e->blocks, e->size, (uint64_t)st.st_blocks, size);
	e->blocks = (uint64_t)st.st_blocks;
	e->size = size;
}

/* Update e in place from stx. Returns 1 if its numbers changed. A linked
 * name's numbers are its inode's record (another name may have moved
 * them since this one was seen). */
static int
ent_update(struct track *t, struct tent *e, const struct statx *stx)
{
	uint64_t blocks = stx->stx_blocks, size = stx->stx_size;
	uint64_t *ob = &e->blocks, *os = &e->size;
	unsigned cat = e->cat;

	if (e->flags & E_LINKED) {
		struct link *l = link_find(t, e->ino);
		if (l) {
			ob = &l->blocks;
			os = &l->size;
			cat = l->cat;
		}
	}
	if (blocks == *ob && size == *os) {
		e->blocks = blocks;
		e->size = size;
		return 0;
	}
	count_resize(t, cat, *ob, *os, blocks, size);
	*ob = blocks;
	*os = size;
	e->blocks = blocks;
	e->size = size;
	return 1;
}

/*
 * A new entry name in d (fd: d's descriptor), as stx says, classified cat
 * (child: the context of its entries if a directory). ph is the placeholder
 * holding the name in d's table, if any. Returns the entry, or NULL if it
 * went away meanwhile.
 */
static struct tent *
ent_add(struct track *t, struct tdir *d, int fd, struct tent *ph, const char *name,
        const struct statx *stx, dev_t dev, enum disk_cat cat, const struct cls_ctx *child,
        unsigned kind)
{
	struct tent *e;

	if (kind & E_TDIR) {
		/* Open it first: the watch and the listing must be on the
		 * directory that was stat'ed, not on what the name leads to
		 * by then. */
		int cfd = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		int bad = cfd < 0 ? errno : 0;
		if (!bad && (fstat(cfd, &st) < 0 || st.st_dev != dev || st.st_ino != stx->stx_ino))
			bad = ESTALE;
		if (bad && is_vanished(bad)) {
			/* Gone or replaced since the stat: the event that says
			 * so is still to come. */
			if (cfd >= 0)
				close(cfd);
			t->vanished++;
			if (ph)
				ent_remove(t, d, ph);
			return NULL;
		}
		struct tdir *x = tdir_new(t, name);
		x->parent = d;
		x->depth = d->depth + 1;
		x->dev = dev;
		x->cls = *child;
		x->recon_gen = t->recon_gen;
		e = dir_ent(x);
		e->ino = stx->stx_ino;
		e->blocks = stx->stx_blocks;
		e->size = stx->stx_size;
		e->cat = (uint8_t)cat;
		e->flags = (uint16_t)kind;
		if (ph) {
			tab_replace(d, ph, e);
			ent_release(t, ph);
		} else {
			tab_insert(t, d, e);
		}
		dirs_append(t, x);
		count_inode(t, 1, cat, e->blocks, e->size, kind);
		if (bad) {
			/* Counted, not entered (as a scan does). */
			note_error(t, d, name, bad);
			return e;
		}
		if (!t->unavail)
			watch_dir(t, x, cfd);
		fdc_put(t, x, cfd);
		list_queue(t, x);
		return e;
	}

	if (ph) {
		e = ph;
		e->flags &= E_QSTAT;
	} else {
		e = ent_new(t, name);
		tab_insert(t, d, e);
	}
	e->ino = stx->stx_ino;
	e->blocks = stx->stx_blocks;
	e->size = stx->stx_size;
	e->cat = (uint8_t)cat;
	e->flags |= (uint16_t)kind;
	if (!(kind & E_DIR) && dev != d->dev)
		e->flags |= E_FOREIGN;
	if (!(kind & E_DIR) && stx->stx_nlink > 1 && !(e->flags & E_FOREIGN)) {
		file_link(t, d, e);
	} else {
		count_inode(t, 1, cat, e->blocks, e->size, kind);
		if (is_plain_file(e))
			ino_put(t, d, e);
	}
	if (kind & E_MOUNT)
		mnt_add(t, d, e);
	return e;
}

/*
 * Bring the index's entry for name in d (e, NULL if the table has none, or
 * a placeholder) in line with the file system. d NULL: the root's own
 * entry. relist: a reconciliation's listing asks (counts what it finds
 * changed). Returns the entry the table now has for name, or NULL.
 */
static struct tent *
resolve(struct track *t, struct tdir *d, struct tent *e, const char *name_in, int relist)
{
	struct statx stx;
	char name[NAME_MAX + 1]; /* e (and its name) may be freed on the way */

	snprintf(name, sizeof(name), "%s", name_in);

	t->used++;
	t->since_drain++;
	t->st.stats++;
	if (!d) {
		root_restat(t);
		return e;
	}
	int fd = dir_fd(t, d);
	if (fd < 0) {
		int err = errno;
		if (is_vanished(err)) {
			/* d is not where the index has it: its parent finds out. */
			d->dflags |= D_RELIST;
			mark_self(t, d);
			if (t->listing == d)
				list_abort(t);
		} else {
			note_error(t, d, NULL, err);
		}
		return e;
	}
	if (statx(fd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_BASIC_STATS | STATX_MNT_ID,
	          &stx) < 0) {
		int err = errno;
		if (err != ENOENT)
			note_error(t, d, name, err);
		else if (!e)
			t->vanished++;
		if (e) {
			if (relist && !(e->flags & E_NEW))
				t->st.reconcile_changes++;
			ent_remove(t, d, e);
		}
		return NULL;
	}

	int is_dir = S_ISDIR(stx.stx_mode);
	dev_t dev = makedev(stx.stx_dev_major, stx.stx_dev_minor);
	int mount =
	    is_dir && (dev != t->rootdev || (t->root_mnt_known && (stx.stx_mask & STATX_MNT_ID) &&
	                                     stx.stx_mnt_id != t->root_mnt_id));
	/* Only the root's own subdirectories are probed for bin/spark-class. */
	classify_probe_fn probe = d == t->rootdir && is_dir && !mount ? scan_probe_contains : NULL;
	struct cls_ctx child = {0};
	enum disk_cat cat = classify_entry(&d->cls, name, is_dir, probe, &fd, &child);
	unsigned kind =
	    (is_dir ? E_DIR : 0) | (mount ? E_MOUNT : 0) | (is_dir && !mount ? E_TDIR : 0);

	if (e && !(e->flags & E_NEW)) {
		int same = e->ino == stx.stx_ino && (e->flags & E_KIND) == kind && e->cat == cat;
		if (same && (kind & E_TDIR)) {
			struct tdir *x = ent_dir(e);
			same =
			    x->dev == dev && x->cls.zone == child.zone && x->cls.cat == child.cat;
		}
		if (same) {
			if (ent_update(t, e, &stx) && relist)
				t->st.reconcile_changes++;
			if ((kind & E_TDIR) && (ent_dir(e)->dflags & D_RELIST))
				list_queue(t, ent_dir(e));
			return e;
		}
		/* Replaced, or another kind, or reclassified (a top-level
		 * directory that gained or lost bin/spark-class): anew. */
		if (relist)
			t->st.reconcile_changes++;
		ent_remove(t, d, e);
		e = NULL;
	} else if (relist && !e) {
		t->st.reconcile_changes++;
	}
	fd = dir_fd(t, d); /* removing may have evicted it */
	if (fd < 0)
		return NULL;
	return ent_add(t, d, fd, e, name, &stx, dev, cat, &child, kind);
}

/* --- listing ----------------------------------------------------------------------- */

struct dent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static void
list_start(struct track *t, struct tdir *x, int relist)
{
	int fd = dir_fd(t, x);

	t->used++; /* an empty directory costs something too */
	if (relist)
		x->recon_gen = t->recon_gen;
	if (fd < 0) {
		int err = errno;
		if (is_vanished(err)) {
			x->dflags |= D_RELIST;
			mark_self(t, x);
		} else {
			note_error(t, x, NULL, err);
		}
		return;
	}
	if (x->wd < 0 && !t->unavail) {
		/* Not watched (a watch the kernel dropped, the limit): again,
		 * before listing, so that nothing falls between the two. */
		watch_dir(t, x, fd);
		fd = dir_fd(t, x);
		if (fd < 0)
			return;
	}
	int lfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (lfd < 0) {
		note_error(t, x, NULL, errno);
		return;
	}
	t->listing = x;
	t->list_fd = lfd;
	t->relisting = relist;
	t->dlen = t->doff = 0;
}

/* Stop the listing under way: its directory is not where the index has it
 * (it is flagged to be listed again once that is settled). */
static void
list_abort(struct track *t)
{
	struct tdir *x = t->listing;

	close(t->list_fd);
	t->list_fd = -1;
	t->listing = NULL;
	for (uint32_t i = 0; i < x->cap; i++) {
		if (x->slots[i])
			x->slots[i]->flags &= ~E_SEEN;
	}
}

static void
list_finish(struct track *t)
{
	struct tdir *x = t->listing;

	close(t->list_fd);
	t->list_fd = -1;
	t->listing = NULL;
	/* What the listing did not meet is gone, or came after: resolve it. */
	for (uint32_t i = 0; i < x->cap; i++) {
		struct tent *e = x->slots[i];
		if (!e)
			continue;
		if (!(e->flags & E_SEEN))
			mark(t, x, e);
		e->flags &= ~E_SEEN;
	}
	t->st.listings++;
}

static int
budget_done(const struct track *t)
{
	return t->budget && t->used >= t->budget;
}

/* Resolve the next names of the listing under way (a bounded number, so
 * that work() drains events in between however big the directory). */
static void
list_step(struct track *t)
{
	struct tdir *x = t->listing;

	for (int k = 0; k < LIST_STEP && t->listing == x && !budget_done(t); k++) {
		if (t->doff >= t->dlen) {
			long n = syscall(SYS_getdents64, t->list_fd, t->dbuf, DENTS_BUF);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && !is_vanished(errno))
				note_error(t, x, NULL, errno);
			if (n <= 0) {
				list_finish(t);
				return;
			}
			t->dlen = (size_t)n;
			t->doff = 0;
		}
		const struct dent64 *de = (const void *)(t->dbuf + t->doff);
		const char *name = de->d_name;
		t->doff += de->d_reclen;
		if (name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0')))
			continue;
		struct tent *e = resolve(t, x, tab_find(x, name), name, t->relisting);
		if (e && t->listing == x)
			e->flags |= E_SEEN;
	}
}

/* --- events -------------------------------------------------------------------------- */

static void
recon_start(struct track *t)
{
	t->recon_gen++;
	t->cursor = t->head;
	t->reconciling = 1;
	mark_self(t, t->rootdir);
}

/* Events were lost: the index may be wrong anywhere. */
static void
lost(struct track *t)
{
	t->st.losses++;
	t->lost = 1;
	recon_start(t);
}

static void
handle_event(struct track *t, const struct inotify_event *ev)
{
	t->st.events++;
	if (ev->mask & IN_Q_OVERFLOW) {
		lost(t);
		return;
	}
	struct tdir *d = wd_find(t, ev->wd);
	if (!d)
		return; /* a watch already dropped */
	if (ev->mask & IN_IGNORED) {
		/* The kernel dropped the watch (the directory is gone, or its
		 * file system): find out from the parent. */
		wd_del(t, ev->wd);
		d->wd = -1;
		t->watches--;
		d->dflags |= D_RELIST;
		mark_self(t, d);
		return;
	}
	if (ev->mask & IN_UNMOUNT) {
		lost(t);
		return;
	}
	if ((ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF)) || ev->len == 0 || !ev->name[0]) {
		mark_self(t, d);
		return;
	}
	const char *name = ev->name;
	if (ev->mask & (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO)) {
		/* The directory's own size follows its entries. */
		mark_self(t, d);
		/* X/bin/spark-class decides what a top-level X is. */
		if (d->depth == 2 && strcmp(dir_ent(d)->name, "bin") == 0 &&
		    strcmp(name, "spark-class") == 0)
			mark_self(t, d->parent);
	}
	struct tent *e = tab_find(d, name);
	if (!e) {
		if (ev->mask & (IN_DELETE | IN_MOVED_FROM))
			return; /* never counted */
		e = ent_new(t, name);
		e->flags = E_NEW;
		tab_insert(t, d, e);
	}
	mark(t, d, e);
}

/* Handle at most max events (0: all), reading as needed. Returns the number
 * handled, or -1 with errno if read() failed. */
static long
drain(struct track *t, size_t max)
{
	size_t n = 0;

	t->since_drain = 0;
	while (!max || n < max) {
		if (t->eoff >= t->elen) {
			ssize_t r = read(t->ifd, t->ebuf, EVBUF);
			if (r < 0 && errno == EINTR)
				continue;
			if (r < 0 && errno == EAGAIN)
				break;
			if (r <= 0)
				return r < 0 ? -1 : (long)n;
			t->elen = (size_t)r;
			t->eoff = 0;
		}
		const struct inotify_event *ev = (const void *)(t->ebuf + t->eoff);
		t->eoff += sizeof(*ev) + ev->len;
		handle_event(t, ev);
		n++;
	}
	return (long)n;
}

/* --- work ------------------------------------------------------------------------------ */

static void
recon_step(struct track *t)
{
	while (t->cursor && t->cursor->recon_gen == t->recon_gen)
		t->cursor = t->cursor->next;
	if (!t->cursor) {
		t->reconciling = 0;
		t->lost = 0;
		t->st.reconciles++;
		return;
	}
	struct tdir *x = t->cursor;
	t->cursor = x->next;
	list_start(t, x, 1);
}

/* Queued names first (fresh changes), then new directories, then the
 * reconciliation, within the budget. */
static void
work(struct track *t)
{
	while (!budget_done(t)) {
		struct work w;
		struct tdir *x;

		if (t->since_drain >= DRAIN_EVERY)
			drain(t, DRAIN_MAX); /* a long run: keep the kernel's queue short */
		if (q_pop(t, &w)) {
			w.e->flags &= ~E_QSTAT;
			if (w.e->flags & E_DEAD) {
				if (!(w.e->flags & E_QLIST))
					ent_free(t, w.e);
				continue;
			}
			resolve(t, w.dir, w.e, w.e->name, 0);
		} else if (t->listing) {
			list_step(t);
		} else if ((x = lq_pop(t))) {
			struct tent *e = dir_ent(x);
			e->flags &= ~E_QLIST;
			if (e->flags & E_DEAD) {
				if (!(e->flags & E_QSTAT))
					ent_free(t, e);
				continue;
			}
			list_start(t, x, 0);
		} else if (t->reconciling) {
			recon_step(t);
		} else {
			break;
		}
	}
}

/* --- the API --------------------------------------------------------------------------- */

struct track *
track_new(const char *root, const struct track_opts *opts, struct spx_error *err)
{
	struct stat st;
	struct statx stx;

	/* The root is resolved as given (a `latest` symlink is fine). */
	_cleanup_close_ int rootfd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0 || fstat(rootfd, &st) < 0) {
		spx_error_set(err, errno, "track '%s'", root);
		return NULL;
	}
	int ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (ifd < 0) {
		spx_error_set(err, errno, "track '%s': inotify", root);
		return NULL;
	}

	struct track *t = xcalloc(1, sizeof(*t));
	if (opts)
		t->o = *opts;
	t->root = xstrdup(root);
	t->rootfd = TAKE_FD(rootfd);
	t->ifd = ifd;
	t->list_fd = -1;
	t->proc_ok = 1;
	t->rootdev = st.st_dev;
	if (statx(t->rootfd, "", AT_EMPTY_PATH | AT_STATX_DONT_SYNC, STATX_MNT_ID, &stx) == 0 &&
	    (stx.stx_mask & STATX_MNT_ID)) {
		t->root_mnt_id = stx.stx_mnt_id;
		t->root_mnt_known = 1;
	} else {
		/* Without mount ids a bind mount of a directory of the tree
		 * looks like that directory: scans deduplicate directories
		 * then; an index of names cannot. */
		spx_error_set(err, ENOTSUP, "track '%s': no statx mount ids (Linux < 5.8)", root);
		track_free(t);
		return NULL;
	}
	t->ebuf = xmalloc(EVBUF);
	t->dbuf = xmalloc(DENTS_BUF);

	struct tdir *r = tdir_new(t, "");
	struct tent *e = dir_ent(r);
	r->dev = st.st_dev;
	classify_root(&r->cls);
	e->ino = st.st_ino;
	e->blocks = (uint64_t)st.st_blocks;
	e->size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
	e->flags = E_DIR | E_TDIR;
	e->cat = CAT_OTHER; /* the root counts like any directory, as du counts it */
	t->rootdir = r;
	dirs_append(t, r);
	count_inode(t, 1, CAT_OTHER, e->blocks, e->size, e->flags);

	if (watch_dir(t, r, t->rootfd) < 0 && !t->unavail && errno == ENOENT) {
		t->proc_ok = 0; /* no /proc: watch by path */
		watch_dir(t, r, t->rootfd);
	}
	if (r->wd < 0 && !t->unavail) {
		spx_error_set(err, errno, "track '%s': inotify watch", root);
		track_free(t);
		return NULL;
	}
	list_queue(t, r);
	work(t);
	if (t->unavail) {
		spx_error_set(err, t->unavail,
		              "track '%s': inotify watches (fs.inotify.max_user_watches)", root);
		track_free(t);
		return NULL;
	}
	return t;
}

void
track_free(struct track *t)
{
	if (!t)
		return;
	/* Queued dead entries are the queues' to free; live ones the tables'. */
	struct work w;
	struct tdir *x;
	while (q_pop(t, &w)) {
		w.e->flags &= ~E_QSTAT;
		if ((w.e->flags & E_DEAD) && !(w.e->flags & E_QLIST))
			ent_free(t, w.e);
	}
	while ((x = lq_pop(t))) {
		struct tent *e = dir_ent(x);
		e->flags &= ~E_QLIST;
		if ((e->flags & E_DEAD) && !(e->flags & E_QSTAT))
			ent_free(t, e);
	}
	if (t->listing)
		close(t->list_fd);
	for (x = t->head; x;) {
		struct tdir *next = x->next;
		for (uint32_t i = 0; i < x->cap; i++) {
			if (x->slots[i] && !(x->slots[i]->flags & E_TDIR))
				free(x->slots[i]);
		}
		free(x->slots);
		fdc_drop(t, x);
		free(x);
		x = next;
	}
	close(t->ifd);
	close(t->rootfd);
	free(t->wds);
	free(t->q);
	free(t->lq);
	free(t->chain);
	free(t->stack);
	for (size_t i = 0; i < t->link_cap; i++)
		free(t->links[i].v);
	free(t->links);
	free(t->inos);
	free(t->mnts);
	free(t->ebuf);
	free(t->dbuf);
	free(t->root);
	free(t);
}

int
track_fd(const struct track *t)
{
	return t->ifd;
}

int
track_process(struct track *t, size_t budget, struct spx_error *err)
{
	if (budget == 0 || budget > INT_MAX)
		budget = INT_MAX;
	long n = drain(t, budget);
	if (n < 0)
		return spx_error_set(err, errno, "track '%s': reading inotify events", t->root);
	return (int)n;
}

enum track_status
track_status(const struct track *t)
{
	if (t->unavail)
		return TRACK_UNAVAILABLE;
	if (t->lost)
		return TRACK_NEEDS_RESCAN;
	if (t->q_len || t->lq_len || t->listing || t->reconciling || t->eoff < t->elen)
		return TRACK_PENDING;
	return TRACK_CURRENT;
}

const char *
track_status_name(enum track_status st)
{
	switch (st) {
	case TRACK_CURRENT:
		return "current";
	case TRACK_PENDING:
		return "pending";
	case TRACK_NEEDS_RESCAN:
		return "needs_rescan";
	case TRACK_UNAVAILABLE:
		return "unavailable";
	}
	return "invalid";
}

enum track_status
track_refresh(struct track *t, size_t budget, struct scan_result *ret)
{
	int64_t t0 = now_mono_ns();

	drain(t, DRAIN_MAX);
	for (size_t i = 0; i < t->mnt_n; i++)
		mark(t, t->mnts[i].dir, t->mnts[i].e);
	t->budget = budget;
	t->used = 0;
	work(t);

	memset(ret, 0, sizeof(*ret));
	for (int c = 0; c < CAT_COUNT; c++) {
		ret->bytes[c] = t->tot.bytes[c];
		ret->apparent[c] = t->tot.apparent[c];
		ret->files[c] = t->tot.files[c];
		ret->total_bytes += t->tot.bytes[c];
		ret->total_apparent += t->tot.apparent[c];
	}
	ret->entries = t->tot.entries;
	ret->dirs = t->tot.dirs;
	ret->vanished = t->vanished;
	ret->errors = t->errors;
	ret->mounts_skipped = t->tot.mounts;
	ret->hardlinks_deduped = t->tot.dedup;
	ret->threads = 1;
	memcpy(ret->first_error, t->first_error, sizeof(ret->first_error));
	ret->scan_ns = (uint64_t)(now_mono_ns() - t0);
	return track_status(t);
}

void
track_reconcile(struct track *t)
{
	t->unavail = 0; /* the listings try the missing watches again */
	recon_start(t);
}

void
track_get_stats(const struct track *t, struct track_stats *ret)
{
	*ret = t->st;
	ret->entries = t->nnames + 1;
	ret->dirs = t->ndirs;
	ret->watches = t->watches;
	ret->pending = t->q_len + t->lq_len + (t->listing ? 1 : 0);
	ret->reconciling = t->reconciling;
	ret->unavailable_errno = t->unavail;
	ret->mem_bytes = t->mem + t->wd_cap * sizeof(*t->wds) + t->q_cap * sizeof(*t->q) +
	                 t->lq_cap * sizeof(*t->lq) + EVBUF + DENTS_BUF + sizeof(*t);
}
