package io.starling.store.rocksdb;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.FastThreadLocal;
import io.netty.util.internal.PlatformDependent;
import io.netty.util.internal.ThreadExecutorMap;
import io.starling.broker.store.StoreStats;
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
 * The single writer of the database, with natural group commit, and the place where a failing disk becomes refused
 * acknowledgements instead of lost messages.
 *
 * <p>Any thread (in the broker: the event loops) posts write operations and durability barriers to one
 * multi-producer single-consumer queue and returns at once; it never blocks and never touches RocksDB. The
 * committer thread drains whatever has queued (while the previous commit was being fsynced, typically), puts
 * the writes into one {@link WriteBatch}, commits it with one {@code RocksDB.write} (with {@code sync} in
 * {@code fsync: always}), then posts the actions of the barriers drained with it to their event loops. The
 * batch grows with the load: one fsync per batch, not per message.
 *
 * <h2>Barriers</h2>
 *
 * Barriers follow the writes of their thread: each thread has a {@link Producer} with the sequence number of its
 * last queued write ({@code queued}, written by that thread) and of its last resolved one ({@code done}, written by
 * the committer: committed, or lost in a failed commit). Because the queue is FIFO per producer, a barrier drained
 * in a batch comes after every write its thread queued before it, which is then resolved with that batch or an
 * earlier one. A thread whose writes are all resolved and whose earlier barrier actions have all run gets its
 * action run inline: clean sessions and QoS 0 never write, so their acknowledgements cost one thread-local lookup,
 * a few field reads and no queue hop. The "earlier barriers have run" condition keeps the actions of one thread in
 * the order they were asked for (PUBACKs in PUBLISH order, [MQTT-4.6.0-2]).
 *
 * <h2>Failures</h2>
 *
 * A barrier answers for the writes its thread queued since the thread's previous barrier: the writes an
 * acknowledgement depends on are queued just before it, on the same thread, by the same call. When a commit fails
 * (disk full, I/O error), its writes are lost; every barrier whose writes include a lost <em>critical</em> one, in
 * that batch or an earlier one, runs its failure action instead ({@link #whenDurable(Runnable, Runnable)}):
 * nothing that depends on a lost write is ever acknowledged, and a barrier that depends on none (its thread
 * queued only housekeeping since its previous barrier) is answered even when its batch failed for others.
 * Writes are critical unless queued as housekeeping
 * ({@link #housekeeping}): deletions of what was delivered or has ended, whose loss only means that something comes
 * back after a restart, never that something acknowledged goes missing. So while the disk is full, clean sessions
 * and QoS 0 keep working even on loops shared with stored sessions.
 *
 * <p>The committer goes on trying: every batch is written (RocksDB answers at once while it is in an error state),
 * and while nothing is queued a small probe write is tried every second. When RocksDB writes again (it resumes by
 * itself from a full disk once space is free, see {@link RocksDbStore}), acknowledgements flow again. A failure that
 * RocksDB cannot resume from, and a data directory that was removed or replaced while the broker runs (detected after
 * every commit by the identity of the directory and its lock file), keep the store failed until the broker is
 * restarted; the log says so, once.
 */
final class Committer {

    /**
     * Work done on the committer thread, in queue order with the writes: it may add writes to the batch being
     * built, read the database (after {@link Batch#commitNow()} to see everything queued before it) and ask for
     * actions to run once its batch is committed, or undone if it fails. Counts as a write for {@link #whenDurable}.
     */
    interface Task {
        void run(Batch batch) throws RocksDBException;
    }

    /** Work the committer does in bounded steps when it has time: one step per batch, more while idle. */
    interface Background {
        /** Whether there is work left. */
        boolean pending();

        /** Does one bounded step, adding its writes to {@code batch}. */
        void step(Batch batch) throws RocksDBException;
    }

    /** What a {@link Task} may do; committer thread only. */
    final class Batch {
        private final WriteBatch batch;
        private final List<Runnable> afterCommit = new ArrayList<>();
        private final List<Runnable> onFailure = new ArrayList<>();

        Batch(WriteBatch batch) {
            this.batch = batch;
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

        /**
         * Commits what the batch holds so far, so that reads see it. If that commit fails, the batch's undo actions
         * run and the batch counts as failed.
         */
        void commitNow() {
            if (batch.count() > 0) {
                if (!commit(batch)) {
                    batchFailed = true;
                }
                batch.clear();
            }
        }

        RocksDB db() {
            return db;
        }

        /** Runs {@code action} on the committer thread once this batch is committed (not if it fails). */
        void afterCommit(Runnable action) {
            afterCommit.add(action);
        }

        /** Runs {@code undo} on the committer thread if this batch fails: it restores what the task counted. */
        void onFailure(Runnable undo) {
            onFailure.add(undo);
        }

        private void reset() {
            batch.clear();
            afterCommit.clear();
            onFailure.clear();
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(Committer.class);
    private static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
    private static final long PROBE_INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(1);

    private static final int PUT = 0;
    private static final int DELETE = 1;
    private static final int SINGLE_DELETE = 2;
    private static final int TASK = 3;

    private final RocksDB db;
    private final WriteOptions writeOptions;
    private final int maxBatchOps;
    private final long closeDeadlineNanos;
    private final StoreHealth health;
    private final Queue<Object> queue = PlatformDependent.newMpscQueue();
    private final FastThreadLocal<Producer> producers = new FastThreadLocal<>();
    private final AtomicBoolean parked = new AtomicBoolean();
    private final AtomicBoolean warnedNoLoop = new AtomicBoolean();
    private final AtomicBoolean warnedClosed = new AtomicBoolean();
    private final Thread thread;
    private Background background;
    private ColumnFamilyHandle probeFamily;
    private byte[] probeKey;
    private volatile boolean open = true;
    /** Set by a task's {@link Batch#commitNow()} that failed; committer only. */
    private boolean batchFailed;
    private long lastProbeNanos;
    private volatile long batches;
    /** Bytes of the batches committed; written by the committer only. */
    private volatile long bytesWritten;
    private volatile StoreStats.CommitObserver observer = StoreStats.CommitObserver.NONE;
    private volatile long writes;

    /**
     * @param closeDeadlineNanos how long {@link #close()} goes on committing what is queued before it gives up
     * @param health the store's state, which this committer keeps up to date
     */
    Committer(RocksDB db, WriteOptions writeOptions, int maxBatchOps, long closeDeadlineNanos, StoreHealth health,
            String threadName) {
        this.db = db;
        this.writeOptions = writeOptions;
        this.maxBatchOps = maxBatchOps;
        this.closeDeadlineNanos = closeDeadlineNanos;
        this.health = health;
        this.thread = new Thread(this::run, threadName);
        this.thread.setDaemon(true);
    }

    /** Background work to do between batches (set before {@link #start()}). */
    void background(Background work) {
        this.background = work;
    }

    /** Where the probe write goes while the store is failed (set before {@link #start()}). */
    void probe(ColumnFamilyHandle family, byte[] key) {
        this.probeFamily = family;
        this.probeKey = key;
    }

    void start() {
        thread.start();
    }

    /** Queues a put; returns at once. */
    void put(ColumnFamilyHandle cf, byte[] key, byte[] value) {
        enqueueWrite(PUT, false, cf, key, value, null);
    }

    /** Queues a delete; returns at once. */
    void delete(ColumnFamilyHandle cf, byte[] key) {
        enqueueWrite(DELETE, false, cf, key, null, null);
    }

    /** Queues a SingleDelete (for keys put exactly once since their last deletion); returns at once. */
    void singleDelete(ColumnFamilyHandle cf, byte[] key) {
        enqueueWrite(SINGLE_DELETE, false, cf, key, null, null);
    }

    /** Queues a task; returns at once. */
    void task(Task task) {
        enqueueWrite(TASK, false, null, null, null, task);
    }

    /**
     * Queues a task whose loss in a failed commit must not fail the calling thread's next barrier: the deletion of
     * something delivered, acknowledged or ended. If it is lost, the deleted data is still on disk after a restart
     * (a message delivered again, a session that comes back), never missing.
     */
    void housekeeping(Task task) {
        enqueueWrite(TASK, true, null, null, null, task);
    }

    /** As {@link #delete}, as housekeeping (see {@link #housekeeping(Task)}). */
    void housekeepingDelete(ColumnFamilyHandle cf, byte[] key) {
        enqueueWrite(DELETE, true, cf, key, null, null);
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
            p.groupHousekeeping = true;
        }
    }

    /** Ends a group: queues what it holds as one operation (critical if any of it is). */
    void endGroup() {
        Producer p = producer();
        if (--p.groupDepth > 0) {
            return;
        }
        List<Write> ops = p.group;
        boolean housekeeping = p.groupHousekeeping;
        p.group = null;
        if (ops.isEmpty()) {
            return;
        }
        if (ops.size() == 1) {
            Write w = ops.get(0);
            enqueueWrite(w.kind, w.housekeeping, w.cf, w.key, w.value, w.task);
            return;
        }
        enqueueWrite(TASK, housekeeping, null, null, null, batch -> {
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

    private void enqueueWrite(int kind, boolean housekeeping, ColumnFamilyHandle cf, byte[] key, byte[] value,
            Task task) {
        if (!open) {
            if (warnedClosed.compareAndSet(false, true)) {
                LOG.warn("store is closed: dropping writes");
            }
            return;
        }
        Producer p = producer();
        if (p.groupDepth > 0) {
            p.group.add(new Write(kind, housekeeping, cf, key, value, task, p, 0));
            p.groupHousekeeping &= housekeeping;
            return;
        }
        long seq = ++p.queued;
        queue.offer(new Write(kind, housekeeping, cf, key, value, task, p, seq));
        wake();
    }

    /** See {@link RocksDbStore#whenDurable(Runnable, Runnable)}: on the calling thread's event loop. */
    void whenDurable(Runnable action, Runnable onFailure) {
        Producer p = producers.getIfExists();
        if (p == null) {
            action.run();
            return;
        }
        if (p.idle()) {
            inline(p, action, onFailure).run();
            return;
        }
        enqueueBarrier(p, ThreadExecutorMap.currentExecutor(), action, onFailure);
    }

    /** See {@link RocksDbStore#whenDurable(EventExecutor, Runnable, Runnable)}. */
    void whenDurable(EventExecutor loop, Runnable action, Runnable onFailure) {
        Producer p = producers.getIfExists();
        if (p == null || p.idle()) {
            Runnable r = p == null ? action : inline(p, action, onFailure);
            if (loop.inEventLoop()) {
                r.run();
            } else {
                loop.execute(r);
            }
            return;
        }
        enqueueBarrier(p, loop, action, onFailure);
    }

    /** The action of a barrier that need not wait: the failure action if a critical write it answers for was lost. */
    private Runnable inline(Producer p, Runnable action, Runnable onFailure) {
        long from = p.barrierFrom;
        p.barrierFrom = p.queued + 1;
        if (p.lostCritical >= from) {
            health.refused(1);
            return onFailure;
        }
        return action;
    }

    private void enqueueBarrier(Producer p, EventExecutor loop, Runnable action, Runnable onFailure) {
        if (!open) {
            return;
        }
        long from = p.barrierFrom;
        p.barrierFrom = p.queued + 1;
        p.barriersQueued++;
        queue.offer(new Barrier(p, loop, action, onFailure, from));
        wake();
    }

    private void wake() {
        if (parked.get() && parked.compareAndSet(true, false)) {
            LockSupport.unpark(thread);
        }
    }

    /**
     * Commits what is queued, for at most the close deadline, then stops the thread and waits for it. What is still
     * queued then was never acknowledged; it is dropped, with a log line. Later writes are dropped.
     */
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

    /** Bytes of the batches committed so far; from any thread. */
    long bytesWritten() {
        return bytesWritten;
    }

    /** Where each committed batch is reported from now on; from any thread. */
    void observer(StoreStats.CommitObserver o) {
        this.observer = o;
    }

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
        long closingSince = 0;
        try (WriteBatch wb = new WriteBatch()) {
            Batch batch = new Batch(wb);
            while (true) {
                if (!open && closingSince == 0) {
                    closingSince = System.nanoTime();
                }
                if (closingSince != 0 && System.nanoTime() - closingSince > closeDeadlineNanos) {
                    abandon();
                    return;
                }
                int n = 0;
                int writeOps = 0;
                batchFailed = false;
                Object op;
                while (n < maxBatchOps && (op = queue.poll()) != null) {
                    n++;
                    if ((n & 63) == 0 && !open) {
                        if (closingSince == 0) {
                            closingSince = System.nanoTime();
                        } else if (System.nanoTime() - closingSince > closeDeadlineNanos) {
                            n = maxBatchOps; // past the close deadline: commit what this batch has, abandon the rest
                        }
                    }
                    if (op instanceof Write w) {
                        if (w.kind == TASK) {
                            runTask(w.task, batch);
                        } else {
                            add(wb, w);
                        }
                        writeOps++;
                        Producer p = w.producer;
                        if (!p.touched) {
                            p.touched = true;
                            p.batchCritical = 0;
                            touched.add(p);
                        }
                        p.batchMax = w.seq;
                        if (!w.housekeeping) {
                            p.batchCritical = w.seq;
                        }
                    } else {
                        barriers.add((Barrier) op);
                    }
                }
                boolean backgroundStep = background != null && background.pending() && open;
                if (backgroundStep) {
                    try {
                        background.step(batch);
                    } catch (RocksDBException e) {
                        batchFailed = true;
                        health.failed(e);
                    } catch (RuntimeException e) {
                        LOG.warn("a background store task failed", e);
                    }
                }
                if (n == 0 && !backgroundStep) {
                    if (!open) {
                        return;
                    }
                    if (health.isFailed()) {
                        probe();
                    }
                    park();
                    continue;
                }
                boolean ok = !batchFailed;
                if (ok && wb.count() > 0) {
                    ok = commit(wb);
                }
                if (ok) {
                    ok = health.checkDirectory();
                }
                if (ok) {
                    writes += writeOps;
                    for (Runnable r : batch.afterCommit) {
                        runSafely(r);
                    }
                } else {
                    for (Runnable r : batch.onFailure) {
                        runSafely(r);
                    }
                }
                batch.reset();
                if (!ok) {
                    for (Producer p : touched) {
                        if (p.batchCritical > 0) {
                            p.lostCritical = p.batchCritical;
                        }
                    }
                }
                int refused = 0;
                for (Barrier b : barriers) {
                    // a barrier fails if a critical write of its thread since the thread's previous barrier was
                    // lost, in this batch or an earlier one; a thread whose writes since then were housekeeping only
                    // (or none) depends on nothing that was lost, even if the batch failed for others' writes
                    boolean durable = b.producer.lostCritical < b.from;
                    if (!durable) {
                        refused++;
                    }
                    post(b, durable);
                }
                health.refused(refused);
                barriers.clear();
                for (Producer p : touched) {
                    p.done = p.batchMax;
                    p.touched = false;
                }
                touched.clear();
            }
        } catch (Throwable t) {
            health.failed(t);
            LOG.error("the store's committer stopped", t);
        }
    }

    /** Close deadline passed: what is still queued was never acknowledged. */
    private void abandon() {
        int dropped = 0;
        while (queue.poll() != null) {
            dropped++;
        }
        LOG.warn("store closed {} s after shutdown began with {} queued write(s) and barrier(s) not committed (none of"
                + " them was acknowledged)", TimeUnit.NANOSECONDS.toSeconds(closeDeadlineNanos), dropped);
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
            batchFailed = true;
            health.failed(e);
        }
    }

    private void runTask(Task task, Batch batch) {
        try {
            task.run(batch);
        } catch (RocksDBException e) {
            batchFailed = true;
            health.failed(e);
        } catch (RuntimeException e) {
            LOG.warn("a store task failed", e);
        }
    }

    /** Writes a batch; false (and the store marked failed) if RocksDB refuses it or the directory is gone. */
    private boolean commit(WriteBatch batch) {
        if (health.isFatal()) {
            return false; // the directory went away: writing on would only fill unlinked files
        }
        try {
            long start = System.nanoTime();
            db.write(writeOptions, batch);
            long nanos = System.nanoTime() - start;
            long bytes = batch.getDataSize();
            batches++;
            bytesWritten += bytes;
            health.committed();
            observer.committed(nanos, batch.count(), bytes);
            return true;
        } catch (RocksDBException e) {
            health.failed(e);
            return false;
        }
    }

    /** While failed and idle: tries a small write once a second, so the store notices that it writes again. */
    private void probe() {
        long now = System.nanoTime();
        if (probeFamily == null || now - lastProbeNanos < PROBE_INTERVAL_NANOS || health.isFatal()) {
            return;
        }
        lastProbeNanos = now;
        try (WriteBatch wb = new WriteBatch()) {
            wb.put(probeFamily, probeKey, java.nio.ByteBuffer.allocate(8).putLong(System.currentTimeMillis()).array());
            if (commit(wb)) {
                health.checkDirectory();
            }
        } catch (RocksDBException e) {
            health.failed(e);
        }
    }

    private void post(Barrier b, boolean durable) {
        b.durable = durable;
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
            LockSupport.parkNanos(this, health.isFailed() ? Math.min(IDLE_PARK_NANOS, PROBE_INTERVAL_NANOS)
                    : IDLE_PARK_NANOS);
        }
        parked.set(false);
    }

    /** Per-thread sequence numbers. */
    private static final class Producer {
        /** Last write queued; written by the owning thread only. */
        long queued;
        /** First write not yet answered for by a barrier; owning thread only. */
        long barrierFrom = 1;
        /** Barriers queued; written by the owning thread only. */
        long barriersQueued;
        /** Nesting depth of {@link #beginGroup()} and the operations of the open group; owning thread only. */
        int groupDepth;
        List<Write> group;
        boolean groupHousekeeping;
        /** Last write resolved (committed or lost); written by the committer only. */
        volatile long done;
        /** Highest critical write lost in a failed commit; written by the committer only, before {@link #done}. */
        volatile long lostCritical;
        /** Barrier actions that have run (or started). */
        final AtomicLong barriersRun = new AtomicLong();
        /** Committer-only scratch: highest sequence number and highest critical one in the current batch. */
        long batchMax;
        long batchCritical;
        boolean touched;

        boolean idle() {
            return queued == done && barriersQueued == barriersRun.get();
        }
    }

    private static final class Write {
        final int kind;
        final boolean housekeeping;
        final ColumnFamilyHandle cf;
        final byte[] key;
        final byte[] value;
        final Task task;
        final Producer producer;
        final long seq;

        Write(int kind, boolean housekeeping, ColumnFamilyHandle cf, byte[] key, byte[] value, Task task,
                Producer producer, long seq) {
            this.kind = kind;
            this.housekeeping = housekeeping;
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
        final Runnable onFailure;
        /** The first write of its thread it answers for. */
        final long from;
        /** Set by the committer before it posts the barrier. */
        boolean durable;

        Barrier(Producer producer, EventExecutor loop, Runnable action, Runnable onFailure, long from) {
            this.producer = producer;
            this.loop = loop;
            this.action = action;
            this.onFailure = onFailure;
            this.from = from;
        }

        @Override
        public void run() {
            producer.barriersRun.incrementAndGet();
            (durable ? action : onFailure).run();
        }
    }
}
