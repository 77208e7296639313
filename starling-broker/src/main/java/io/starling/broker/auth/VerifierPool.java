package io.starling.broker.auth;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The threads that verify passwords, with a fair queue: each task is queued under a key (the client's IP address),
 * and the threads take the keys in turn, one task each, so a burst from one address delays the check of another by
 * at most one check per address waiting, not by the whole burst. The queue holds at most {@code capacity} tasks and
 * at most {@code perKeyCapacity} of one key; beyond either, {@link #execute(Object, Runnable)} refuses with a
 * {@link RejectedExecutionException} (the client is refused with Server busy and may retry), so one address cannot
 * fill the queue either.
 *
 * <p>Thread-safety: thread-safe; one lock around the queue, taken twice per task (a check costs a few hundred ms).
 */
public final class VerifierPool extends AbstractExecutorService {

    private static final Logger LOG = LoggerFactory.getLogger(VerifierPool.class);

    /** The key of tasks given without one ({@link #execute(Runnable)}). */
    private static final Object NO_KEY = new Object();

    private final int capacity;
    private final int perKeyCapacity;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private final Condition done = lock.newCondition();
    /** Tasks waiting, by key; a key is in {@link #turns} exactly when its queue is not empty. */
    private final Map<Object, ArrayDeque<Runnable>> queues = new HashMap<>();
    private final ArrayDeque<Object> turns = new ArrayDeque<>();
    private final List<Thread> threads = new ArrayList<>();
    private int queued;
    private int alive;
    private boolean shutdown;

    /**
     * Starts {@code threads} daemon threads named {@code starling-auth-N}.
     *
     * @param capacity tasks waiting at most, over all keys
     * @param perKeyCapacity tasks waiting at most under one key
     */
    public VerifierPool(int threads, int capacity, int perKeyCapacity) {
        if (threads < 1 || capacity < 1 || perKeyCapacity < 1) {
            throw new IllegalArgumentException("threads and capacities must be at least 1");
        }
        this.capacity = capacity;
        this.perKeyCapacity = perKeyCapacity;
        for (int i = 1; i <= threads; i++) {
            Thread t = new Thread(this::work, "starling-auth-" + i);
            t.setDaemon(true);
            this.threads.add(t);
        }
        alive = threads;
        this.threads.forEach(Thread::start);
    }

    /** Queues {@code task} under no particular key. */
    @Override
    public void execute(Runnable task) {
        execute(NO_KEY, task);
    }

    /**
     * Queues {@code task} under {@code key} ({@code null} = no particular key).
     *
     * @throws RejectedExecutionException when the queue or the key's share of it is full, or the pool is shut down
     */
    public void execute(Object key, Runnable task) {
        Objects.requireNonNull(task, "task");
        Object k = key == null ? NO_KEY : key;
        lock.lock();
        try {
            if (shutdown) {
                throw new RejectedExecutionException("the verifier pool is shut down");
            }
            if (queued >= capacity) {
                throw new RejectedExecutionException("too many password checks queued");
            }
            ArrayDeque<Runnable> q = queues.get(k);
            if (q == null) {
                q = new ArrayDeque<>();
                queues.put(k, q);
                turns.addLast(k);
            } else if (q.size() >= perKeyCapacity) {
                throw new RejectedExecutionException("too many password checks queued for one address");
            }
            q.addLast(task);
            queued++;
            work.signal();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Takes {@code task} out of the queue if it is still waiting there under {@code key}, so that a check nobody
     * waits for any more (the client went away) gives its place back at once rather than when its turn comes.
     *
     * @return true if it was waiting and is removed
     */
    public boolean remove(Object key, Runnable task) {
        Object k = key == null ? NO_KEY : key;
        lock.lock();
        try {
            ArrayDeque<Runnable> q = queues.get(k);
            if (q == null || !q.removeFirstOccurrence(task)) {
                return false;
            }
            queued--;
            if (q.isEmpty()) {
                queues.remove(k);
                turns.remove(k);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Tasks waiting (not running). */
    public int queued() {
        lock.lock();
        try {
            return queued;
        } finally {
            lock.unlock();
        }
    }

    private void work() {
        try {
            while (true) {
                Runnable task = next();
                if (task == null) {
                    return;
                }
                try {
                    task.run();
                } catch (RuntimeException e) {
                    LOG.warn("Password check failed unexpectedly", e);
                }
            }
        } finally {
            lock.lock();
            try {
                alive--;
                done.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    /** The next task in turn, waiting for one; {@code null} once shut down and empty. */
    private Runnable next() {
        lock.lock();
        try {
            while (queued == 0) {
                if (shutdown) {
                    return null;
                }
                work.awaitUninterruptibly();
            }
            Object key = turns.pollFirst();
            ArrayDeque<Runnable> q = queues.get(key);
            Runnable task = q.pollFirst();
            queued--;
            if (q.isEmpty()) {
                queues.remove(key);
            } else {
                turns.addLast(key); // its next task waits for every other key's turn
            }
            return task;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void shutdown() {
        lock.lock();
        try {
            shutdown = true;
            work.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Stops taking tasks, drops those waiting and interrupts the running ones; returns those dropped. */
    @Override
    public List<Runnable> shutdownNow() {
        List<Runnable> dropped = new ArrayList<>();
        lock.lock();
        try {
            shutdown = true;
            for (Object key : turns) {
                dropped.addAll(queues.get(key));
            }
            queues.clear();
            turns.clear();
            queued = 0;
            work.signalAll();
        } finally {
            lock.unlock();
        }
        threads.forEach(Thread::interrupt);
        return dropped;
    }

    @Override
    public boolean isShutdown() {
        lock.lock();
        try {
            return shutdown;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean isTerminated() {
        lock.lock();
        try {
            return shutdown && alive == 0;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        long left = unit.toNanos(timeout);
        lock.lock();
        try {
            while (!(shutdown && alive == 0)) {
                if (left <= 0) {
                    return false;
                }
                left = done.awaitNanos(left);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "VerifierPool[" + threads.size() + " threads, " + queued() + " of " + capacity + " queued, at most "
                + perKeyCapacity + " per address]";
    }
}
