package io.starling.broker.session;

import io.starling.broker.config.BrokerConfig;
import io.starling.broker.config.BrokerConfig.DropPolicy;
import io.starling.broker.message.Delivery;
import io.starling.broker.metrics.BrokerMetrics;
import io.starling.broker.log.RateLimitedLog;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * A session's in-memory queue of deliveries waiting for the in-flight window or the socket: bounded by
 * {@code max-queued-messages} and {@code max-queued-bytes} (the broker's, or a bridge's own) with the
 * {@code drop-policy}, its bytes counted in the broker-wide total ({@link BrokerMetrics#queuedBytes}) that the
 * {@link QueueBudget} watches, and shed from when the budget says so. A queue that reaches
 * {@link QueueBudget#largeQueueBytes} joins the {@link LargeQueues}, where the budget looks for what to shed, and
 * leaves them when it is empty again: a set operation per such round trip, not per message.
 *
 * <p>Cost: one {@link ArrayDeque} entry per queued message (the message itself is shared); the deque is made for the
 * first message and kept, and the log of drops for the first drop. Confined to the session's owner loop, except
 * {@link #bytesFromAnyThread()}.
 */
final class OutboundQueue {

    private static final Logger LOG = LoggerFactory.getLogger(OutboundQueue.class);
    private static final Duration DROP_LOG_INTERVAL = Duration.ofSeconds(10);
    /** {@link #bytes}, written with opaque stores so that the queue budget can read it from another loop. */
    private static final VarHandle BYTES;

    static {
        try {
            BYTES = MethodHandles.lookup().findVarHandle(OutboundQueue.class, "bytes", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final Session session;
    private final BrokerConfig config;
    /** {@code max-queued-messages} and {@code max-queued-bytes}: the broker's, or the session's own. */
    private final int maxMessages;
    private final long maxBytes;
    private final BrokerMetrics metrics;
    private final LargeQueues largeQueues;
    /** Made for the first message; grows on demand (most sessions queue nothing, or little). */
    private ArrayDeque<Delivery> queue;
    /** Bytes of {@link #queue}; written on the owner only, read from other loops by the queue budget (opaque). */
    private long bytes;
    /** Whether the session is in {@link #largeQueues}. */
    private boolean large;
    /** {@link QueueBudget#largeQueueBytes} for this broker's settings; 0 until first needed. */
    private long largeQueueBytes;
    /** Messages dropped (its own limits or the global budget). */
    private long dropped;
    /** At most one line about this queue's drops every {@link #DROP_LOG_INTERVAL}; made at the first drop. */
    private RateLimitedLog dropLog;

    OutboundQueue(Session session, BrokerConfig config, BrokerMetrics metrics, LargeQueues largeQueues) {
        this.session = session;
        this.config = config;
        BrokerConfig.SessionLimits own = session.ownLimits();
        this.maxMessages = own != null ? own.maxQueuedMessages() : config.maxQueuedMessages();
        this.maxBytes = own != null ? own.maxQueuedBytes() : config.maxQueuedBytes();
        this.metrics = metrics;
        this.largeQueues = largeQueues;
    }

    boolean isEmpty() {
        return queue == null || queue.isEmpty();
    }

    int size() {
        return queue == null ? 0 : queue.size();
    }

    private ArrayDeque<Delivery> deque() {
        if (queue == null) {
            queue = new ArrayDeque<>(2);
        }
        return queue;
    }

    /** Bytes queued, as the queue limits count them ({@code Message.weight()} per delivery); on the owner. */
    long bytes() {
        return bytes;
    }

    /** Bytes queued, as last written by the owner; may be called from any thread. */
    long bytesFromAnyThread() {
        return (long) BYTES.getOpaque(this);
    }

    /** Messages dropped from this queue since it was created (its own limits or the global budget). */
    long dropped() {
        return dropped;
    }

    Delivery peek() {
        return queue == null ? null : queue.peekFirst();
    }

    /** Removes and returns the oldest delivery. */
    Delivery poll() {
        Delivery d = queue.pollFirst();
        addBytes(-d.message().weight(), -1);
        return d;
    }

    /**
     * Queues a delivery within the queue's limits: when full, {@code drop-oldest} drops the oldest to make room,
     * {@code drop-new} (and an empty queue) drops {@code d}. Each drop is counted.
     */
    void offer(Delivery d) {
        long w = d.message().weight();
        if (size() >= maxMessages || bytes + w > maxBytes) {
            if (config.dropPolicy() == DropPolicy.DROP_OLDEST && !isEmpty()) {
                Delivery old = queue.pollFirst();
                addBytes(-old.message().weight(), -1);
                countDrop();
            } else {
                countDrop();
                return;
            }
        }
        deque().addLast(d);
        addBytes(w, 1);
    }

    /** Queues a stored delivery paged in from the store: the stored queue's own limits have admitted it already. */
    void addStored(Delivery d) {
        deque().addLast(d);
        addBytes(d.message().weight(), 1);
    }

    /** Forgets everything queued. */
    void clear() {
        int n = size();
        if (queue != null) {
            queue.clear();
        }
        addBytes(-bytes, -n);
    }

    /** Removes and returns the deliveries that came through shared subscriptions, in queue order. */
    List<Delivery> takeShared() {
        List<Delivery> taken = new ArrayList<>();
        if (queue == null) {
            return taken;
        }
        for (Iterator<Delivery> it = queue.iterator(); it.hasNext(); ) {
            Delivery d = it.next();
            if (d.group() != null) {
                taken.add(d);
                addBytes(-d.message().weight(), -1);
                it.remove();
            }
        }
        return taken;
    }

    /** The queued deliveries, oldest first (a copy; for tests). */
    List<Delivery> snapshot() {
        return queue == null ? List.of() : List.copyOf(queue);
    }

    /** Counts a delivery that was not queued (the stored queue refused it): as a drop of this queue. */
    void countDrop() {
        metrics.messagesDropped.increment();
        metrics.droppedQueueFull.increment();
        dropped++;
        RateLimitedLog log = dropLog;
        if (log == null) {
            log = new RateLimitedLog(LOG, Level.WARN, DROP_LOG_INTERVAL, session.context().clock()::nanos);
            dropLog = log;
        }
        log.log("Queue of client '{}' full ({}): dropped a message", session.clientId(), this);
    }

    /** How full the queue is, for the log: its messages and bytes when the line is written. */
    @Override
    public String toString() {
        return size() + " messages, " + bytes + " bytes";
    }

    /**
     * Removes the newest stored deliveries (at least {@code bytes} if there are that many), keeping the order of the
     * rest; returns the position of the oldest one removed, 0 if there was none. Stored deliveries are in position
     * order in the queue, so every stored one from that position on is gone from memory. Counted as unloaded.
     */
    long unloadStored(long bytes) {
        long sum = 0;
        long from = 0;
        if (queue == null) {
            return 0;
        }
        for (Iterator<Delivery> it = queue.descendingIterator(); it.hasNext() && sum < bytes; ) {
            Delivery d = it.next();
            if (d.isStored()) {
                sum += d.message().weight();
                from = d.seq();
            }
        }
        if (from == 0) {
            return 0;
        }
        long freed = 0;
        int count = 0;
        for (int i = 0, n = queue.size(); i < n; i++) {
            Delivery d = queue.pollFirst();
            if (d.isStored() && d.seq() >= from) {
                freed += d.message().weight();
                count++;
            } else {
                queue.addLast(d);
            }
        }
        addBytes(-freed, -count);
        metrics.storedUnloaded.add(count);
        return from;
    }

    /**
     * Drops queued deliveries that are not stored, oldest first (only QoS 0 ones if asked), keeping the order, until
     * {@code bytes} are freed; counted as dropped and shed. Returns the bytes freed.
     */
    long dropUnstored(long bytes, boolean qos0Only) {
        long freed = 0;
        int count = 0;
        for (int i = 0, n = size(); i < n; i++) {
            Delivery d = queue.pollFirst();
            if (freed < bytes && !d.isStored() && (!qos0Only || d.qos() == 0)) {
                freed += d.message().weight();
                count++;
            } else {
                queue.addLast(d);
            }
        }
        if (count > 0) {
            addBytes(-freed, -count);
            dropped += count;
            metrics.messagesDropped.add(count);
            metrics.messagesShed.add(count);
        }
        return freed;
    }

    /** This queue's bytes and the broker-wide total move together; see the class comment for the large queues. */
    private void addBytes(long delta, int messages) {
        long q = bytes + delta;
        BYTES.setOpaque(this, q);
        metrics.queuedBytes.add(delta);
        metrics.queuedMessages.add(messages);
        if (large) {
            if (q == 0) {
                large = false;
                largeQueues.remove(session);
            }
        } else if (q >= largeQueueBytes()) {
            large = true;
            largeQueues.add(session);
        }
    }

    private long largeQueueBytes() {
        long t = largeQueueBytes;
        if (t == 0) {
            t = QueueBudget.largeQueueBytes(config);
            largeQueueBytes = t;
        }
        return t;
    }
}
