package io.starling.broker.session;

import io.netty.util.concurrent.EventExecutor;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.log.RateLimitedLog;
import io.starling.broker.metrics.BrokerMetrics;
import io.starling.broker.metrics.StripedCounter;
import io.starling.broker.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * The global memory budget for undelivered messages ({@code max-queued-bytes-total}): the bytes queued in memory in
 * all sessions, counted as {@code max-queued-bytes} counts them ({@code Message.weight()} per queued copy). Sessions
 * add to and subtract from one {@link StripedCounter} (no lock and no shared cache line per message); the sum is
 * read once per read batch of a connection that published or subscribed, and by the check below.
 *
 * <p>What happens as the total grows, with B the budget (checked after read batches that routed messages, and every
 * {@link #CHECK_INTERVAL_MS} ms while any session has a large queue, {@link LargeQueues}):
 * <ul>
 *   <li>at the <b>shed mark</b> (7/8 B) the largest in-memory queues are cut until the total is back at the
 *       <b>low-water mark</b> (3/4 B): the queues are sorted by size and the largest brought down to a common level
 *       (a stalled subscriber's queue, which grows to its own limits, is thus the first to lose). Each session sheds
 *       on its own loop ({@link Session#shed}, posted): stored deliveries go back to the store, then QoS 0 messages,
 *       then the oldest. Candidates are the sessions in {@link LargeQueues}; if they do not hold
 *       enough, every session is looked at, at most once a second. Drops are counted ({@code messagesShed}) and
 *       reported in one log line at most every 10 s.</li>
 *   <li>at the <b>high-water mark</b> (B), which shedding normally keeps the total away from, connections that
 *       publish and have nothing to receive stop being read ({@link #pause}) until the total is below the shed mark
 *       again, and never longer than {@link #MAX_PAUSE_MS}: a pause is a breathing space for shedding to catch up,
 *       not a wait for consumers, so no publisher waits on a subscriber that does not read.</li>
 * </ul>
 * While the total is at or above the shed mark, a session has a large queue or anything is paused, the total is
 * checked every {@link #CHECK_INTERVAL_MS} ms on the loop that started the check; nothing runs otherwise.
 *
 * <p>Thread-safety: all public methods may be called from any thread.
 */
public final class QueueBudget {

    private static final Logger LOG = LoggerFactory.getLogger(QueueBudget.class);

    /** How often the total is checked while it is at the shed mark, a queue is large or connections are paused. */
    public static final long CHECK_INTERVAL_MS = 10;
    /** The longest a connection is paused for the budget; it is read again after that whatever the total. */
    public static final long MAX_PAUSE_MS = 1000;
    /** Upper bound of {@link #largeQueueBytes}: queues from this size are candidates for shedding. */
    public static final long LARGE_QUEUE_BYTES = 16 * 1024;
    private static final long FULL_SCAN_INTERVAL_NS = TimeUnit.SECONDS.toNanos(1);
    /** A shed round whose tasks have not all run after this long (a loop shutting down) no longer blocks the next. */
    private static final long ROUND_TIMEOUT_NS = TimeUnit.SECONDS.toNanos(1);

    /** Told when a paused connection may read again; {@code timedOut} when {@link #MAX_PAUSE_MS} ended the pause. */
    public interface Resume {
        void resume(boolean timedOut);
    }

    private record Paused(Resume resume, long deadlineNs) {
    }

    private record Cut(Session session, long bytes) {
    }

    private final StripedCounter queuedBytes;
    private final Clock clock;
    private final BrokerMetrics metrics;
    private final LargeQueues largeQueues;
    private final Iterable<Session> allSessions;
    private final long highWaterMark;
    private final long shedMark;
    private final long lowWaterMark;
    /** The least a queue is cut by (if it holds that much), so that many equal queues do not each lose a message. */
    private final long minCut;
    private final ConcurrentLinkedQueue<Paused> paused = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean checking = new AtomicBoolean();
    private final LongAdder pauses = new LongAdder();
    private final LongAdder pausesTimedOut = new LongAdder();
    private final LongAdder rounds = new LongAdder();
    /** What shedding and pauses did: at most one line every 10 s (on the broker's clock). */
    private final RateLimitedLog reportLog;

    // confined to the check, which runs on one loop at a time (handed over through {@link #checking})
    private AtomicInteger round;
    private long roundStartedNs;
    private long lastFullScanNs;
    private long reportedShed;
    private long reportedTimeouts;
    private String largestClientId;
    private long largestBytes;

    /**
     * @param metrics where the sessions keep the total ({@code queuedBytes}) and the shed count
     * @param largeQueues the sessions with a large queue, where shedding looks first
     * @param allSessions every session, for the occasional full look when the large queues do not hold enough
     * @param maxQueuedBytesTotal the budget; 0 = none (nothing is ever shed or paused)
     */
    public QueueBudget(BrokerMetrics metrics, LargeQueues largeQueues, Iterable<Session> allSessions,
            long maxQueuedBytesTotal) {
        this(metrics, largeQueues, allSessions, maxQueuedBytesTotal, Clock.SYSTEM);
    }

    /** As above, with the clock that times pauses, full scans and reports. */
    public QueueBudget(BrokerMetrics metrics, LargeQueues largeQueues, Iterable<Session> allSessions,
            long maxQueuedBytesTotal, Clock clock) {
        if (maxQueuedBytesTotal < 0) {
            throw new IllegalArgumentException("max-queued-bytes-total must not be negative");
        }
        this.clock = clock;
        this.metrics = metrics;
        this.largeQueues = largeQueues;
        this.queuedBytes = metrics.queuedBytes;
        this.allSessions = allSessions;
        this.highWaterMark = maxQueuedBytesTotal;
        this.shedMark = maxQueuedBytesTotal - maxQueuedBytesTotal / 8;
        this.lowWaterMark = maxQueuedBytesTotal - maxQueuedBytesTotal / 4;
        this.minCut = Math.max(1, Math.min(LARGE_QUEUE_BYTES, maxQueuedBytesTotal / 256));
        if (maxQueuedBytesTotal > 0) {
            // a queue that becomes large starts the check: deliveries land on other loops after the read batch that
            // routed them, so the check after that batch may come too early to see them
            largeQueues.onJoin(s -> startChecking(s.owner()));
        }
        this.reportLog = new RateLimitedLog(LOG, Level.WARN, Duration.ofSeconds(10), clock::nanos);
        this.lastFullScanNs = clock.nanos() - FULL_SCAN_INTERVAL_NS;
    }

    /**
     * The queue size from which a session is a candidate for shedding ({@link LargeQueues}):
     * {@link #LARGE_QUEUE_BYTES}, less for a small budget (1/256 of it) or small session queues (half of
     * {@code max-queued-bytes}, or half of {@code max-queued-messages} messages of the smallest weight), so that a
     * queue at its own limits is always a candidate. {@code Long.MAX_VALUE} without a budget.
     */
    public static long largeQueueBytes(BrokerConfig config) {
        long budget = config.limits().maxQueuedBytesTotal();
        if (budget == 0) {
            return Long.MAX_VALUE;
        }
        long t = Math.min(LARGE_QUEUE_BYTES, budget / 256);
        t = Math.min(t, config.maxQueuedBytes() / 2);
        t = Math.min(t, config.maxQueuedMessages() * 32L);
        return Math.max(1, t);
    }

    /** Bytes queued over all sessions now. */
    public long queuedBytes() {
        return queuedBytes.sum();
    }

    /** The budget: publishers may be paused at or above it; 0 = no budget. */
    public long highWaterMark() {
        return highWaterMark;
    }

    /** At or above this the largest queues are shed; paused publishers are read again below it. */
    public long shedMark() {
        return shedMark;
    }

    /** What shedding brings the total back to. */
    public long lowWaterMark() {
        return lowWaterMark;
    }

    /** Whether the total has reached the budget (never when the budget is 0). */
    public boolean isExhausted() {
        return isAtBudget(queuedBytes.sum());
    }

    /** Whether {@code total} (as {@link #onRouted} returned it) is at the budget; never when the budget is 0. */
    public boolean isAtBudget(long total) {
        return highWaterMark > 0 && total >= highWaterMark;
    }

    /** Times a connection was paused since start. */
    public long pauses() {
        return pauses.sum();
    }

    /** Pauses ended by {@link #MAX_PAUSE_MS} rather than by the total going down. */
    public long pausesTimedOut() {
        return pausesTimedOut.sum();
    }

    /** Shed rounds started since start (each cuts one or more queues). */
    public long shedRounds() {
        return rounds.sum();
    }

    /** Connections waiting to be resumed now. */
    public int waiting() {
        return paused.size();
    }

    /**
     * Called after a read batch that routed messages (or subscribed): reads the total once and, at the shed mark,
     * starts shedding on {@code loop} if it is not running yet.
     *
     * @return the total, for the caller's decision to pause; 0 without a budget
     */
    public long onRouted(EventExecutor loop) {
        if (highWaterMark == 0) {
            return 0;
        }
        long total = queuedBytes.sum();
        if (total >= shedMark) {
            startChecking(loop);
        }
        return total;
    }

    /**
     * Registers a paused connection: {@code resume} runs (on {@code loop} or another loop) once the total is below the
     * shed mark, or after {@link #MAX_PAUSE_MS}; it must post to the connection's own loop if it needs to. The caller
     * has stopped reading already, and registers once per pause.
     */
    public void pause(Resume resume, EventExecutor loop) {
        pauses.increment();
        paused.add(new Paused(resume, clock.nanos() + TimeUnit.MILLISECONDS.toNanos(MAX_PAUSE_MS)));
        startChecking(loop);
    }

    private void startChecking(EventExecutor loop) {
        if (checking.compareAndSet(false, true)) {
            try {
                loop.execute(() -> check(loop));
            } catch (RejectedExecutionException e) {
                checking.set(false); // the broker is stopping
            }
        }
    }

    private void schedule(EventExecutor loop) {
        try {
            loop.schedule(() -> check(loop), CHECK_INTERVAL_MS, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            checking.set(false); // the broker is stopping
        }
    }

    private void check(EventExecutor loop) {
        long total = queuedBytes.sum();
        try {
            long now = clock.nanos();
            if (total >= shedMark) {
                shed(total, now);
            }
            resumePaused(total, now);
            report();
        } catch (RuntimeException e) {
            // never leave paused connections without a checker: the next check runs as usual
            LOG.warn("max-queued-bytes-total: check failed", e);
        }
        if (mustCheck(total)) {
            schedule(loop);
            return;
        }
        checking.set(false);
        // a pause or a large queue registered between the check and the reset must not be left without a checker
        if (mustCheck(0) && checking.compareAndSet(false, true)) {
            schedule(loop);
        }
    }

    /** Whether the check goes on: something paused, the total at the shed mark, or a large queue that may grow. */
    private boolean mustCheck(long total) {
        return !paused.isEmpty() || total >= shedMark || !largeQueues.isEmpty();
    }

    private void resumePaused(long total, long now) {
        boolean all = total < shedMark;
        Paused p;
        while ((p = paused.peek()) != null) {
            boolean timedOut = !all;
            if (timedOut && now - p.deadlineNs() < 0) {
                return; // deadlines are in registration order
            }
            paused.poll(); // the only consumer: the head is p
            if (timedOut) {
                pausesTimedOut.increment();
            }
            p.resume().resume(timedOut);
        }
    }

    /** Plans and posts one shed round, unless the previous one is still running. */
    private void shed(long total, long now) {
        AtomicInteger previous = round;
        if (previous != null && previous.get() > 0 && now - roundStartedNs < ROUND_TIMEOUT_NS) {
            return;
        }
        long need = total - lowWaterMark;
        List<Cut> cuts = plan(largeQueues, need, minCut);
        if (planned(cuts) < need && now - lastFullScanNs >= FULL_SCAN_INTERVAL_NS) {
            lastFullScanNs = now; // the large queues do not hold enough: look at every session
            cuts = plan(allSessions, need, minCut);
        }
        if (cuts.isEmpty()) {
            return;
        }
        rounds.increment();
        AtomicInteger r = new AtomicInteger(cuts.size());
        round = r;
        roundStartedNs = now;
        largestClientId = cuts.get(0).session().clientId();
        largestBytes = cuts.get(0).session().queuedBytesFromAnyThread();
        for (Cut c : cuts) {
            Session s = c.session();
            long bytes = c.bytes();
            try {
                s.execute(() -> {
                    try {
                        s.shed(bytes);
                    } finally {
                        r.decrementAndGet();
                    }
                });
            } catch (RejectedExecutionException e) {
                r.decrementAndGet(); // the broker is stopping
            }
        }
    }

    private static long planned(List<Cut> cuts) {
        long sum = 0;
        for (Cut c : cuts) {
            sum += c.bytes();
        }
        return sum;
    }

    /**
     * The cuts that free {@code need} bytes from the largest queues: sorted by size, the largest k are brought down to
     * a common level, k as small as possible; if all of them together hold less, all of it. A queue is cut by at least
     * {@code minCut} (or all it holds), the largest first, and no more queues are cut than needed: since a session
     * frees whole messages, many small cuts would each cost a message.
     */
    static List<Cut> plan(Iterable<Session> sessions, long need, long minCut) {
        List<Cut> sizes = new ArrayList<>();
        for (Session s : sessions) {
            long b = s.queuedBytesFromAnyThread();
            if (b > 0) {
                sizes.add(new Cut(s, b));
            }
        }
        sizes.sort(Comparator.comparingLong(Cut::bytes).reversed());
        int n = sizes.size();
        int k = n;
        long level = 0;
        long prefix = 0;
        for (int i = 0; i < n; i++) {
            prefix += sizes.get(i).bytes();
            long next = i + 1 < n ? sizes.get(i + 1).bytes() : 0;
            if (prefix - (i + 1) * next >= need) {
                k = i + 1;
                level = Math.max(next, (prefix - need) / k);
                break;
            }
        }
        List<Cut> cuts = new ArrayList<>(k);
        long planned = 0;
        for (int i = 0; i < k && planned < need; i++) {
            Cut c = sizes.get(i);
            long bytes = Math.max(c.bytes() - level, Math.min(c.bytes(), minCut));
            cuts.add(new Cut(c.session(), bytes));
            planned += bytes;
        }
        return cuts;
    }

    private void report() {
        long shedNow = metrics.messagesShed.sum();
        long timeoutsNow = pausesTimedOut.sum();
        if (shedNow == reportedShed && timeoutsNow == reportedTimeouts) {
            return;
        }
        if (reportLog.log("max-queued-bytes-total ({} bytes) reached: {} message(s) dropped from the largest queues "
                + "(largest: client '{}', {} bytes queued), {} publisher pause(s) ended by the {} ms limit, "
                + "{} bytes queued now", highWaterMark, shedNow - reportedShed, largestClientId, largestBytes,
                timeoutsNow - reportedTimeouts, MAX_PAUSE_MS, queuedBytes.sum())) {
            reportedShed = shedNow;
            reportedTimeouts = timeoutsNow;
        }
    }
}
