package io.starling.server.transport;

import io.netty.channel.ChannelHandlerContext;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The limits on one incomplete unit of input (an MQTT packet in {@link MqttFrameDecoder}, a WebSocket frame in
 * {@link WebSocketFrameGuard}) of one connection: the bytes it holds are reserved from the broker-wide
 * {@link IncompletePacketBudget}, and it must be complete within the timeout counted from its first byte.
 *
 * <p>The owner calls {@link #update} after each read with the bytes of the incomplete unit it now holds and the
 * unit's offset in the connection's stream (so that a new unit restarts the clock), and {@link #release} when the
 * connection ends. The first {@link #FREE} bytes of a unit are not counted: a packet split by a read boundary is
 * everyday traffic, and a client sending packets smaller than that is never closed because others filled the budget
 * (each connection may hold that much, as it holds socket buffers; {@code max-connections} bounds those). Beyond
 * them, reservations grow in {@link #CHUNK}s, so the shared counter is touched once per chunk of growth. The timer
 * is one scheduled task per timeout period while units are incomplete, rescheduled from the unit's start rather than
 * per read.
 *
 * <p>Time during which the broker itself does not read the connection (auto-read off: a password being checked, the
 * session being opened, publishers paused by a budget) does not count: the rest of the packet is waiting in the
 * socket through no fault of the client.
 *
 * <p>Thread-safety: confined to the channel's event loop.
 */
final class IncompletePacketGuard {

    /** Reservations are made in multiples of this many bytes. */
    static final int CHUNK = 8 * 1024;

    /** Bytes of an incomplete unit not counted against the budget. */
    static final int FREE = 8 * 1024;

    private final IncompletePacketBudget budget;
    private final long timeoutNanos;
    private final Runnable onTimeout;
    private final Runnable check = this::check;
    private ChannelHandlerContext ctx;
    private long reserved;
    /** Stream offset of the incomplete unit being timed, -1 when there is none. */
    private long unitStart = -1;
    private long since;
    private ScheduledFuture<?> timer;

    /**
     * @param timeoutNanos 0 = no time limit
     * @param onTimeout called on the event loop when the unit is not complete in time
     */
    IncompletePacketGuard(IncompletePacketBudget budget, long timeoutNanos, Runnable onTimeout) {
        this.budget = budget;
        this.timeoutNanos = timeoutNanos;
        this.onTimeout = onTimeout;
    }

    /**
     * Records what the connection holds after a read.
     *
     * @param heldBytes bytes of the incomplete unit buffered now; 0 when the input ends on a unit boundary
     * @param unitOffset where that unit starts in the connection's stream
     * @return false when the budget cannot take them: the caller closes the connection (nothing is reserved for it)
     */
    boolean update(ChannelHandlerContext ctx, long heldBytes, long unitOffset) {
        if (heldBytes <= 0) {
            unitStart = -1;
            releaseReservation();
            return true;
        }
        if (unitOffset != unitStart) {
            unitStart = unitOffset;
            since = ctx.executor().ticker().nanoTime();
            if (timeoutNanos > 0 && timer == null) {
                this.ctx = ctx;
                timer = ctx.executor().schedule(check, timeoutNanos, TimeUnit.NANOSECONDS);
            }
        }
        long counted = heldBytes - FREE;
        if (counted > reserved) {
            long want = roundUp(counted);
            if (!budget.tryReserve(want - reserved)) {
                return false;
            }
            reserved = want;
        } else if (reserved > 0 && counted * 2 < reserved) {
            long want = counted <= 0 ? 0 : roundUp(counted);
            budget.release(reserved - want);
            reserved = want;
        }
        return true;
    }

    /** The connection ended or failed: gives back what it reserved and stops the timer. */
    void release() {
        unitStart = -1;
        releaseReservation();
        if (timer != null) {
            timer.cancel(false);
            timer = null;
        }
    }

    private void releaseReservation() {
        if (reserved > 0) {
            budget.release(reserved);
            reserved = 0;
        }
    }

    private void check() {
        timer = null;
        if (unitStart < 0 || !ctx.channel().isActive()) {
            return;
        }
        long now = ctx.executor().ticker().nanoTime();
        if (!ctx.channel().config().isAutoRead()) {
            since = now; // the broker is not reading: the time is not the client's
        }
        long left = since + timeoutNanos - now;
        if (left > 0) {
            timer = ctx.executor().schedule(check, left, TimeUnit.NANOSECONDS);
            return;
        }
        onTimeout.run();
    }

    private static long roundUp(long bytes) {
        return (bytes + CHUNK - 1) / CHUNK * CHUNK;
    }
}
