package io.starling.store.rocksdb;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.internal.PlatformDependent;
import io.netty.util.internal.ThreadExecutorMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single writer of the database, with natural group commit.
 *
 * <p>Any thread (in the broker: the event loops) posts write operations and durability barriers to one
 * multi-producer single-consumer queue and returns at once; it never blocks and never touches RocksDB. The
 * committer thread drains whatever has queued (while the previous commit was being fsynced, typically), puts
 * the writes into one {@link WriteBatch}, commits it with one {@code RocksDB.write} (with {@code sync} in
 * {@link FsyncMode#ALWAYS}), then posts the actions of the barriers drained with it to their event loops. The
 * batch grows with the load: one fsync per batch, not per message.
 *
 * <p>Barriers follow the writes of their thread: each thread has a {@link Producer} with the sequence number of
 * its last queued write ({@code queued}, written by that thread) and of its last committed write
 * ({@code committed}, written by the committer). Because the queue is FIFO per producer, a barrier drained in a
 * batch comes after every write its thread queued before it, which is then committed with that batch or an
 * earlier one. A thread whose writes are all committed and whose earlier barrier actions have all run gets its
 * action run inline: clean sessions and QoS 0 never write, so their acknowledgements cost one thread-local
 * lookup, two plain and two volatile reads, and no queue hop. The "earlier barriers have run" condition keeps
 * acknowledgements of one thread in the order they were asked for (PUBACKs in PUBLISH order, [MQTT-4.6.0-2]).
 *
 * <p>When a commit fails (disk full, I/O error) the store fails for good: the error is logged, the failed
 * batch's barriers and all later ones are never run (nothing more is acknowledged) and later writes are
 * dropped. The broker should then be restarted (see {@link RocksDbStore#failure()}).
 */
final class Committer {

    /**
     * Work done on the committer thread, in queue order with the writes: it may add writes to the batch being
     * built, read the database (after {@link Batch#commitNow()} to see everything queued before it) and ask for
     * actions to run once its batch is committed. Counts as a write for {@link #whenDurable}.
     */
    interface Task {
        void run(Batch batch) throws RocksDBException;
    }

    /** What a {@link Task} may do; committer thread only. */
    final class Batch {
        private final WriteBatch batch;
        private final List<Runnable> afterCommit;

        Batch(WriteBatch batch, List<Runnable> afterCommit) {
            this.batch = batch;
            this.afterCommit = afterCommit;
        }

        void put(ColumnFamilyHandle cf, byte[] key, byte[] value) throws RocksDBException {
            batch.put(cf, key, value);
        }

        void delete(ColumnFamilyHandle cf, byte[] key) throws RocksDBException {
            batch.delete(cf, key);
        }

        void singleDelete(ColumnFamilyHandle cf, byte[] key) throws RocksDBException {
            batch.singleDelete(cf, key);
        }

        void deleteRange(ColumnFamilyHandle cf, byte[] from, byte[] to) throws RocksDBException {
            batch.deleteRange(cf, from, to);
        }

        /** Commits what the batch holds so far, so that reads see it. */
        void commitNow() {
            if (batch.count() > 0 && failure == null) {
                commit(batch);
                batch.clear();
            }
        }

        RocksDB db() {
            return db;
        }

        /** Runs {@code action} on the committer thread once this batch is committed (not after a failure). */
        void afterCommit(Runnable action) {
            afterCommit.add(action);
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(Committer.class);
    private static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

    private static final int PUT = 0;
    private static final int DELETE = 1;
    private static final int SINGLE_DELETE = 2;
    private static final int TASK = 3;

    private final RocksDB db;
    private final WriteOptions writeOptions;
    private final int maxBatchOps;
    private final Queue<Object> queue = PlatformDependent.newMpscQueue();
    private final FastThreadLocal<Producer> producers = new FastThreadLocal<>();
    private final AtomicBoolean parked = new AtomicBoolean();
    private final AtomicBoolean warnedNoLoop = new AtomicBoolean();
    private final AtomicBoolean warnedClosed = new AtomicBoolean();
    private final Thread thread;
    private volatile boolean open = true;
    private volatile Throwable failure;
    private volatile long batches;
    private volatile long writes;

    Committer(RocksDB db, WriteOptions writeOptions, int maxBatchOps, String threadName) {
        this.db = db;
        this.writeOptions = writeOptions;
        this.maxBatchOps = maxBatchOps;
        this.thread = new Thread(this::run, threadName);
        this.thread.setDaemon(true);
    }

    void start() {
        thread.start();
    }

    /** Queues a put; returns at once. */
    void put(ColumnFamilyHandle cf, byte[] key, byte[] value) {
        enqueueWrite(PUT, cf, key, value);
    }

    /** Queues a delete; returns at once. */
    void delete(ColumnFamilyHandle cf, byte[] key) {
        enqueueWrite(DELETE, cf, key, null);
    }

    /** Queues a SingleDelete (for keys put exactly once since their last deletion); returns at once. */
    void singleDelete(ColumnFamilyHandle cf, byte[] key) {
        enqueueWrite(SINGLE_DELETE, cf, key, null);
    }

    /** Queues a task; returns at once. */
    void task(Task task) {
        enqueueWrite(TASK, null, null, null, task);
    }

    private void enqueueWrite(int kind, ColumnFamilyHandle cf, byte[] key, byte[] value) {
        enqueueWrite(kind, cf, key, value, null);
    }

    /**
     * Starts a group on the calling thread: the writes and tasks it queues until the matching {@link #endGroup()}
     * are committed in one batch, all or none (groups nest; only the outermost counts). No {@link #whenDurable}
     * inside a group, and no task in it may call {@link Batch#commitNow()}.
     */
    void beginGroup() {
        Producer p = producer();
        if (p.groupDepth++ == 0) {
            p.group = new ArrayList<>(4);
        }
    }

    /** Ends a group: queues what it holds as one operation. */
    void endGroup() {
        Producer p = producer();
        if (--p.groupDepth > 0) {
            return;
        }
        List<Write> ops = p.group;
        p.group = null;
        if (ops.isEmpty()) {
            return;
        }
        if (ops.size() == 1) {
            Write w = ops.get(0);
            enqueueWrite(w.kind, w.cf, w.key, w.value, w.task);
            return;
        }
        enqueueWrite(TASK, null, null, null, batch -> {
            for (Write w : ops) {
                switch (w.kind) {
                    case PUT -> batch.put(w.cf, w.key, w.value);
                    case DELETE -> batch.delete(w.cf, w.key);
                    case SINGLE_DELETE -> batch.singleDelete(w.cf, w.key);
                    default -> w.task.run(batch);
                }
            }
        });
    }

    private Producer producer() {
        Producer p = producers.get();
        if (p == null) {
            p = new Producer();
            producers.set(p);
        }
        return p;
    }

    private void enqueueWrite(int kind, ColumnFamilyHandle cf, byte[] key, byte[] value, Task task) {
        if (!open || failure != null) {
            if (warnedClosed.compareAndSet(false, true)) {
                LOG.warn("store is {}: dropping writes", open ? "failed" : "closed");
            }
            return;
        }
        Producer p = producer();
        if (p.groupDepth > 0) {
            p.group.add(new Write(kind, cf, key, value, task, p, 0));
            return;
        }
        long seq = ++p.queued;
        queue.offer(new Write(kind, cf, key, value, task, p, seq));
        wake();
    }

    /** See {@link RocksDbStore#whenDurable(Runnable)}. */
    void whenDurable(Runnable action) {
        Producer p = producers.getIfExists();
        if (p == null || p.idle()) {
            action.run();
            return;
        }
        enqueueBarrier(p, ThreadExecutorMap.currentExecutor(), action);
    }

    /** See {@link RocksDbStore#whenDurable(EventExecutor, Runnable)}. */
    void whenDurable(EventExecutor loop, Runnable action) {
        Producer p = producers.getIfExists();
        if (p == null || p.idle()) {
            if (loop.inEventLoop()) {
                action.run();
            } else {
                loop.execute(action);
            }
            return;
        }
        enqueueBarrier(p, loop, action);
    }

    private void enqueueBarrier(Producer p, EventExecutor loop, Runnable action) {
        if (!open || failure != null) {
            return;
        }
        p.barriersQueued++;
        queue.offer(new Barrier(p, loop, action));
        wake();
    }

    private void wake() {
        if (parked.get() && parked.compareAndSet(true, false)) {
            LockSupport.unpark(thread);
        }
    }

    /** Commits what is queued, stops the thread and waits for it. Later writes are dropped. */
    void close() {
        open = false;
        LockSupport.unpark(thread);
        boolean interrupted = false;
        while (thread.isAlive()) {
            try {
                thread.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    Throwable failure() {
        return failure;
    }

    /** Group commits so far. */
    long batches() {
        return batches;
    }

    /** Write operations committed so far. */
    long writes() {
        return writes;
    }

    private void run() {
        List<Barrier> barriers = new ArrayList<>();
        List<Producer> touched = new ArrayList<>();
        List<Runnable> afterCommit = new ArrayList<>();
        try (WriteBatch batch = new WriteBatch()) {
            Batch context = new Batch(batch, afterCommit);
            while (true) {
                int n = 0;
                int writeOps = 0;
                Object op;
                while (n < maxBatchOps && (op = queue.poll()) != null) {
                    n++;
                    if (op instanceof Write w) {
                        if (failure == null) {
                            if (w.kind == TASK) {
                                runTask(w.task, context);
                            } else {
                                add(batch, w);
                            }
                        }
                        writeOps++;
                        Producer p = w.producer;
                        if (!p.touched) {
                            p.touched = true;
                            touched.add(p);
                        }
                        p.batchMax = w.seq;
                    } else {
                        barriers.add((Barrier) op);
                    }
                }
                if (n == 0) {
                    if (!open) {
                        return;
                    }
                    park();
                    continue;
                }
                if (writeOps > 0 && failure == null) {
                    if (batch.count() > 0) {
                        commit(batch);
                    }
                    writes += writeOps;
                }
                batch.clear();
                if (failure == null) {
                    for (Runnable r : afterCommit) {
                        runSafely(r);
                    }
                }
                afterCommit.clear();
                for (Producer p : touched) {
                    if (failure == null) {
                        p.committed = p.batchMax;
                    }
                    p.touched = false;
                }
                touched.clear();
                if (failure == null) {
                    for (Barrier b : barriers) {
                        post(b);
                    }
                }
                barriers.clear();
            }
        } catch (Throwable t) {
            fail(t);
        }
    }

    private void add(WriteBatch batch, Write w) {
        try {
            switch (w.kind) {
                case PUT:
                    batch.put(w.cf, w.key, w.value);
                    break;
                case DELETE:
                    batch.delete(w.cf, w.key);
                    break;
                case SINGLE_DELETE:
                    batch.singleDelete(w.cf, w.key);
                    break;
                default:
                    throw new IllegalStateException("unknown write kind " + w.kind);
            }
        } catch (RocksDBException e) {
            fail(e);
        }
    }

    private void runTask(Task task, Batch context) {
        try {
            task.run(context);
        } catch (RocksDBException e) {
            fail(e);
        } catch (RuntimeException e) {
            LOG.warn("a store task failed", e);
        }
    }

    private void commit(WriteBatch batch) {
        try {
            db.write(writeOptions, batch);
            batches++;
        } catch (RocksDBException e) {
            fail(e);
        }
    }

    private void fail(Throwable t) {
        if (failure == null) {
            failure = t;
            LOG.error("the store failed to commit; nothing more is acknowledged until the broker is restarted", t);
        }
    }

    private void post(Barrier b) {
        if (b.loop == null) {
            if (warnedNoLoop.compareAndSet(false, true)) {
                LOG.warn("whenDurable called off an event loop with writes pending; running its actions on the committer thread");
            }
            runSafely(b);
            return;
        }
        try {
            b.loop.execute(b);
        } catch (RejectedExecutionException e) {
            LOG.debug("event loop shut down; dropping a durability action", e);
        }
    }

    private static void runSafely(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            LOG.warn("a durability action failed", e);
        }
    }

    private void park() {
        parked.set(true);
        if (queue.isEmpty() && open) {
            LockSupport.parkNanos(this, IDLE_PARK_NANOS);
        }
        parked.set(false);
    }

    /** Per-thread sequence numbers. */
    private static final class Producer {
        /** Last write queued; written by the owning thread only. */
        long queued;
        /** Barriers queued; written by the owning thread only. */
        long barriersQueued;
        /** Nesting depth of {@link #beginGroup()} and the operations of the open group; owning thread only. */
        int groupDepth;
        List<Write> group;
        /** Last write committed; written by the committer only. */
        volatile long committed;
        /** Barrier actions that have run (or started). */
        final AtomicLong barriersRun = new AtomicLong();
        /** Committer-only scratch: highest sequence number in the current batch, and whether it is in it. */
        long batchMax;
        boolean touched;

        boolean idle() {
            return queued == committed && barriersQueued == barriersRun.get();
        }
    }

    private static final class Write {
        final int kind;
        final ColumnFamilyHandle cf;
        final byte[] key;
        final byte[] value;
        final Task task;
        final Producer producer;
        final long seq;

        Write(int kind, ColumnFamilyHandle cf, byte[] key, byte[] value, Task task, Producer producer, long seq) {
            this.kind = kind;
            this.cf = cf;
            this.key = key;
            this.value = value;
            this.task = task;
            this.producer = producer;
            this.seq = seq;
        }
    }

    private static final class Barrier implements Runnable {
        final Producer producer;
        final EventExecutor loop;
        final Runnable action;

        Barrier(Producer producer, EventExecutor loop, Runnable action) {
            this.producer = producer;
            this.loop = loop;
            this.action = action;
        }

        @Override
        public void run() {
            producer.barriersRun.incrementAndGet();
            action.run();
        }
    }
}
