"""The memcheck log rules the valgrind run (make valgrind) applies."""

from agent import harness

LOG = """==100== Memcheck, a memory error detector
==100== Command: /x/build/spex-executor
==100== 
==200== 
==200== 101,836 (1,544 direct, 100,292 indirect) bytes in 1 blocks are definitely lost in loss record 188 of 188
==200==    at 0x48465EF: calloc (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)
==200==    by 0x12FA08: track_new (track.c:1656)
==200==    by 0x138E0A: thread_main (worker.c:32)
==200==    by 0x4BC81F4: start_thread (pthread_create.c:442)
==200== 
==200==    definitely lost: 1,544 bytes in 1 blocks
==100== 48 bytes in 1 blocks are definitely lost in loss record 3 of 9
==100==    at 0x48465EF: malloc (in /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so)
==100==    by 0x12668B: xmalloc (util.c:20)
==100== 
==100==    definitely lost: 48 bytes in 1 blocks
"""


def test_a_forked_task_init_does_not_own_the_worker_threads_blocks():
    # pid 200 (a task-init) inherited a block the worker thread was building.
    assert harness.valgrind_log_problems(LOG) == [
        "pid 100: definitely lost: 48 bytes in 1 blocks"]


def test_the_same_block_in_the_executor_is_a_leak():
    log = LOG.replace("==200==", "==100==")
    assert harness.valgrind_log_problems(log) == [
        "pid 100: definitely lost: 1592 bytes in 2 blocks"]


def test_a_task_init_leak_of_its_own_counts():
    log = LOG.replace("thread_main (worker.c", "taskinit_main (taskinit.c")
    assert "pid 200: definitely lost: 1544 bytes in 1 blocks" in \
        harness.valgrind_log_problems(log)


def test_invalid_accesses_count():
    log = LOG + "==100== Invalid read of size 8\n"
    assert "pid 100: Invalid read of size 8" in harness.valgrind_log_problems(log)
