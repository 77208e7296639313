package io.starling.server.protocol;

import io.netty.channel.Channel;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.util.concurrent.EventExecutor;
import io.starling.broker.Broker;
import io.starling.broker.routing.DeliveryGovernor;
import io.starling.broker.session.QueueBudget;
import io.starling.broker.session.Session;
import io.starling.server.wire.PacketFlow;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the broker reads one connection: the four reasons it stops reading a client and the resumption from each.
 * <ul>
 *   <li>output: an answer (an acknowledgement, PINGRESP, ...) was written while the socket was not writable; the
 *   client is not reading what it is sent, so it gets no more answers until it does (reading and decoding are held
 *   until the socket is writable again);</li>
 *   <li>the DeliveryGovernor: a publisher stops while other loops are behind with deliveries;</li>
 *   <li>the QueueBudget ({@code max-queued-bytes-total}): a pure publisher stops while the queues of all sessions
 *   are at the budget;</li>
 *   <li>the publish rate ({@code max-publish-rate}, {@code max-publish-bytes-rate}): a client that publishes faster
 *   than its rate stops until its {@link PublishRateLimiter} allows the next PUBLISH (a timer of the loop).</li>
 * </ul>
 * It reads again only once none of them holds the connection. It also tells, at a keep-alive check, a client paused
 * for output that reads slowly from one that reads nothing.
 *
 * <p>Created by {@link MqttConnection} the first time one of these applies (its first publishing read batch, or its
 * first answer that finds the socket full), so an idle connection has none; what it needs only once a pause has
 * happened (the resume callbacks and timer task, the record of a stalled output) is created then. The gate itself is the
 * governor's pause callback ({@link #run}). Its log lines are the connection's (logged under
 * {@link MqttConnection}'s logger).
 *
 * <p>Thread-safety: the channel's event loop only; the governor's and the budget's resume callbacks, which may be
 * called from any thread, post to it.
 */
final class ReadGate implements Runnable {

    private static final Logger LOG = LoggerFactory.getLogger(MqttConnection.class);

    private final MqttConnection c;
    /** The transport's decoding of the connection, held while the client does not read; may be null. */
    private final PacketFlow inbound;
    /** Reading stopped by the DeliveryGovernor (hand-off backlog between loops). */
    private boolean governorPaused;
    /** Reading stopped by the QueueBudget (max-queued-bytes-total). */
    private boolean budgetPaused;
    /** A resume callback of this connection is registered with the QueueBudget and has not run yet. */
    private boolean budgetRegistered;
    /** Reading stopped because the client published faster than its rate; a timer of the loop ends it. */
    private boolean ratePaused;
    /** The timer task that ends a pause for the publish rate; created for the first such pause. */
    private Runnable rateResume;
    /** Reading stopped because an answer was written while the socket was not writable. */
    private boolean outputPaused;
    /** Not paused by the QueueBudget before this time; {@link MqttConnection#NO_DEADLINE} when never paused to its limit. */
    private long budgetExemptUntil = ConnectionState.NO_DEADLINE;
    /** While {@link #outputPaused}: the outbound buffer at the last keep-alive check; {@code null} before it. */
    private OutputStall stall;
    /** Called from any loop by the DeliveryGovernor once the hand-off backlog is low again; created for the first pause. */
    private Runnable governorResume;
    /** Called from any loop by the QueueBudget; created for the first pause. */
    private QueueBudget.Resume budgetResume;

    /**
     * The outbound buffer of a connection paused for output at a keep-alive check: its first message, that message's
     * progress and the bytes pending, to tell a client that reads slowly from one that reads nothing.
     */
    private static final class OutputStall {
        Object message;
        long progress;
        long pending;
    }

    ReadGate(MqttConnection connection, PacketFlow inbound) {
        this.c = connection;
        this.inbound = inbound;
    }

    /** Whether the broker has stopped reading the connection, for any reason. */
    boolean isPaused() {
        return outputPaused || budgetPaused || governorPaused || ratePaused;
    }

    /** Whether reads are stopped because the client published faster than its rate. */
    boolean isRatePaused() {
        return ratePaused;
    }

    /** Whether reads are stopped because the client does not read what it is sent. */
    boolean isOutputPaused() {
        return outputPaused;
    }

    /** Bytes written to {@code channel} that the socket has not taken yet. */
    static long pendingOutboundBytes(Channel channel) {
        ChannelOutboundBuffer b = channel.unsafe().outboundBuffer();
        return b == null ? 0 : b.totalPendingWriteBytes();
    }

    // ---------------------------------------------------------------- output

    /** Stops reading (and decoding what was read) until the socket is writable again: see {@link #outputPaused}. */
    void pauseForOutput() {
        if (outputPaused) {
            return;
        }
        outputPaused = true;
        stall = null;
        if (inbound != null) {
            inbound.hold();
        }
        c.channel().config().setAutoRead(false); // in every state: what is read is not decoded while held
        LOG.debug("Client '{}' does not read what it is sent: its reads are paused until it does", c.clientId());
    }

    /** The socket is writable again: read and decode again, what was held back first. */
    void resumeFromOutputPause() {
        outputPaused = false;
        MqttConnection.State state = c.state();
        if (state == MqttConnection.State.CONNECTED) {
            updateAutoRead();
        } else if (state == MqttConnection.State.AWAIT_CONNECT || state == MqttConnection.State.AUTHENTICATING) {
            c.channel().config().setAutoRead(true);
        } // VERIFYING and OPENING read again when they end (accept)
        if (inbound != null) {
            try {
                inbound.release();
            } catch (Exception e) {
                c.exceptionCaught(c.ctx(), e);
            }
        }
    }

    /**
     * At a keep-alive check: whether the connection is paused for output and the socket took nothing since the
     * previous check. The first check after the pause only takes note (the pause may have begun just before it), so
     * a client is judged on at least one whole period.
     */
    boolean readsNothingItIsSent() {
        if (!outputPaused) {
            return false;
        }
        ChannelOutboundBuffer b = c.channel().unsafe().outboundBuffer();
        if (b == null) {
            return false;
        }
        Object current = b.current();
        long progress = b.currentProgress();
        long pending = b.totalPendingWriteBytes();
        OutputStall last = stall;
        boolean moved = last == null || current != last.message || progress != last.progress || pending != last.pending;
        if (last == null) {
            last = new OutputStall();
            stall = last;
        }
        last.message = current;
        last.progress = progress;
        last.pending = pending;
        return !moved;
    }

    // ---------------------------------------------------------------- governor and queue budget

    /** A PUBLISH is written to the client: it must read their acknowledgements, never wait for the budget. */
    void onPublishWritten() {
        if (budgetPaused) {
            budgetPaused = false;
            updateAutoRead();
        }
    }

    /**
     * After a read batch with a PUBLISH, given the {@code total} queued over all sessions: the queue budget, then the
     * DeliveryGovernor, may stop reading the connection.
     */
    void afterPublishing(QueueBudget budget, long total, Broker broker) {
        checkBudget(budget, total);
        pauseIfOverloaded(broker);
    }

    /**
     * max-queued-bytes-total, after a read batch with a PUBLISH, given the {@code total} queued over all sessions: at
     * the budget, the connection stops being read until shedding has brought the total down, for at most
     * {@link QueueBudget#MAX_PAUSE_MS}. Only a pure publisher at this moment: one whose session has messages queued or
     * in flight to it is a subscriber whose acknowledgements free the queues, and is never paused; one that is paused
     * is resumed as soon as a message is written to it ({@link #onPublishWritten}). A pause that ran to its limit
     * exempts the connection for as long again.
     */
    private void checkBudget(QueueBudget budget, long total) {
        Session session = c.session();
        if (!budget.isAtBudget(total) || budgetPaused || session.queuedCount() > 0 || session.inflightCount() > 0
                || (budgetExemptUntil != ConnectionState.NO_DEADLINE && c.now() - budgetExemptUntil < 0)) {
            return;
        }
        budgetPaused = true;
        updateAutoRead();
        LOG.debug("Client '{}': {} bytes queued over all sessions, at max-queued-bytes-total: pausing its reads",
                c.clientId(), total);
        if (!budgetRegistered) {
            budgetRegistered = true;
            if (budgetResume == null) {
                budgetResume = timedOut -> onLoop(() -> resumeFromBudget(timedOut));
            }
            budget.pause(budgetResume, c.channel().eventLoop());
        }
    }

    private void resumeFromBudget(boolean timedOut) {
        budgetRegistered = false;
        if (budgetPaused) {
            if (timedOut) {
                // the pause ran to its limit: read for at least as long before it may be paused again
                budgetExemptUntil = ConnectionState.nonZero(c.now() + TimeUnit.MILLISECONDS.toNanos(QueueBudget.MAX_PAUSE_MS));
            }
            budgetPaused = false;
            updateAutoRead();
        }
    }

    /**
     * After a read batch with a PUBLISH: publishers stop reading while other loops are behind with deliveries (see
     * DeliveryGovernor); a connection that only acknowledges or pings adds nothing to the backlog and goes on.
     */
    private void pauseIfOverloaded(Broker broker) {
        DeliveryGovernor governor = broker.governor();
        if (!governorPaused && governor.isOverloaded()) {
            if (governorResume == null) {
                governorResume = () -> onLoop(() -> {
                    governorPaused = false;
                    updateAutoRead();
                });
            }
            governor.pauseIfOverloaded(this, governorResume);
        }
    }

    // ---------------------------------------------------------------- publish rate

    /**
     * A PUBLISH took the connection over its rate: stops reading it (what was read already is still handled) and
     * reads again in {@code waitNanos}, or later if the PUBLISH packets still to be handled from this read took it
     * further over. Nothing if it is paused for its rate already.
     */
    void pauseForRate(PublishRateLimiter limiter, long waitNanos) {
        if (ratePaused) {
            return; // the timer looks at the buckets again when it fires
        }
        ratePaused = true;
        c.broker().metrics().publishRateLimited.increment();
        updateAutoRead();
        LOG.debug("Client '{}' publishes over its rate: its reads are paused for {} ms", c.clientId(),
                TimeUnit.NANOSECONDS.toMillis(waitNanos));
        if (rateResume == null) {
            rateResume = () -> resumeFromRate(limiter);
        }
        scheduleRateResume(waitNanos);
    }

    private void resumeFromRate(PublishRateLimiter limiter) {
        if (!ratePaused) {
            return;
        }
        long wait = c.state() == MqttConnection.State.CLOSED ? 0 : limiter.waitNanos(c.now());
        if (wait > 0) {
            scheduleRateResume(wait);
            return;
        }
        ratePaused = false;
        updateAutoRead();
    }

    private void scheduleRateResume(long waitNanos) {
        EventExecutor loop = c.channel().eventLoop();
        if (loop.isShuttingDown()) {
            return;
        }
        try {
            loop.schedule(rateResume, waitNanos, TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            // the broker is stopping
        }
    }

    /** The DeliveryGovernor's pause callback: stops reading, on the loop (called from {@link #pauseIfOverloaded}). */
    @Override
    public void run() {
        governorPaused = true;
        updateAutoRead();
    }

    /** Reads while neither the DeliveryGovernor, the QueueBudget, an unread output nor the publish rate holds it. */
    void updateAutoRead() {
        if (c.state() == MqttConnection.State.CONNECTED) {
            c.channel().config().setAutoRead(!isPaused());
        }
    }

    /** Runs {@code task} on the connection's loop (posted); nothing when the broker is stopping. */
    private void onLoop(Runnable task) {
        EventExecutor loop = c.channel().eventLoop();
        if (loop.isShuttingDown()) {
            return;
        }
        try {
            loop.execute(task);
        } catch (RejectedExecutionException e) {
            // the broker is stopping
        }
    }
}
