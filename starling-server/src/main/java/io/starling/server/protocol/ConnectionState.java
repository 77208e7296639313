package io.starling.server.protocol;

import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.starling.codec.packet.MqttPacket;

/**
 * The state machine of a connection, in one place: its {@link State}, every transition, and the deadlines that end a
 * state (the connect timeout until the client is authenticated, the keep-alive while it is open, the grace period of
 * a DISCONNECT once it is closing), checked by the loop's {@link ConnectionSweeper}, whose wheel links connections
 * through the fields here (no node objects); the sweeper itself is looked up when a deadline is filed or withdrawn,
 * which happens a few times in a connection's life, not per packet.
 *
 * <p>The base class of {@link MqttConnection}, which decides when to move on (what the packets and its
 * {@link ConnectHandler} say) and acts on a deadline that falls ({@link #connectTimedOut}, {@link #keepAliveExpired});
 * a base class rather than an object of its own, so that it costs a connection no more than its fields.
 *
 * <p>Thread-safety: the channel's event loop only.
 */
abstract class ConnectionState extends ChannelInboundHandlerAdapter {

    /** {@link #onDeadline}: no deadline left. */
    static final long NO_DEADLINE = 0;

    /**
     * AWAIT_CONNECT → [AUTHENTICATING (5.0 AUTH exchange) | VERIFYING (credentials checked off the loop)] → OPENING →
     * CONNECTED → CLOSED. Packets pipelined behind the CONNECT are held while VERIFYING and OPENING. CLOSED is entered
     * as soon as the connection is to end (what it still writes may take until the close grace period).
     */
    enum State { AWAIT_CONNECT, AUTHENTICATING, VERIFYING, OPENING, CONNECTED, CLOSED }

    private ChannelHandlerContext ctx;
    private Channel channel;
    private State state = State.AWAIT_CONNECT;

    /** This connection in its sweeper's wheel: links and slot; slot -1 while not filed. */
    ConnectionState sweepPrev;
    ConnectionState sweepNext;
    int sweepSlot = -1;
    /**
     * The connect timeout until the client is authenticated (AWAIT_CONNECT, AUTHENTICATING, VERIFYING); in CLOSED,
     * the end of the grace period of a DISCONNECT, after which the connection is closed whether or not it has left;
     * {@link #NO_DEADLINE} otherwise.
     */
    private long deadline = NO_DEADLINE;
    /** 1.5 times the Keep Alive in nanoseconds; 0 = no keep-alive. */
    private long keepAliveNanos;
    /** When the keep-alive period started: the last read batch with a packet, or the last expiry check. */
    private long keepAliveFrom;

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        this.channel = ctx.channel();
    }

    final ChannelHandlerContext ctx() {
        return ctx;
    }

    final Channel channel() {
        return channel;
    }

    /** Where the connection is in its life. */
    public final State state() {
        return state;
    }

    /** The deadlines' clock and the sweeper of each loop (looked up when a deadline is filed or withdrawn). */
    abstract ConnectionSweepers sweepers();

    /** The sweeper of this connection's loop. */
    private ConnectionSweeper sweeper() {
        return sweepers().of(channel.eventLoop());
    }

    /** The packet encoded for this client. */
    abstract Object encode(MqttPacket packet);

    /** The connect timeout fell: no CONNECT, or authentication not done, in time. */
    abstract void connectTimedOut();

    /** 1.5 times the Keep Alive passed without a packet from the client. */
    abstract void keepAliveExpired();

    // ---------------------------------------------------------------- transitions

    /** The channel is active: the connect timeout starts. */
    final void awaitConnect(long connectTimeoutNanos) {
        ConnectionSweeper sweeper = sweeper();
        deadline = nonZero(sweeper.now() + connectTimeoutNanos);
        sweeper.schedule(this, deadline);
    }

    /** AWAIT_CONNECT → AUTHENTICATING: a 5.0 AUTH exchange begins. */
    public final void startAuthenticating() {
        state = State.AUTHENTICATING;
    }

    /** → VERIFYING: credentials are checked off the loop; nothing is read meanwhile. */
    public final void startVerifying() {
        state = State.VERIFYING;
        channel.config().setAutoRead(false);
    }

    /** → OPENING: the session is being opened; the connect timeout no longer applies; nothing is read meanwhile. */
    final void opening() {
        state = State.OPENING;
        deadline = NO_DEADLINE; // the connect timeout also bounds an enhanced authentication exchange, which is over
        channel.config().setAutoRead(false);
        long next = nextDeadline();
        if (next == NO_DEADLINE && sweepSlot >= 0) {
            sweeper().cancel(this);
        }
    }

    /** OPENING → CONNECTED: the CONNACK has been written. */
    final void connected() {
        state = State.CONNECTED;
    }

    /** The client went away while its session was being opened: nothing more happens on this connection. */
    public final void abandon() {
        state = State.CLOSED;
    }

    /** CLOSED: the channel is closed, without a flush. */
    final void end() {
        state = State.CLOSED;
        channel.close();
    }

    /** CLOSED: what was written goes out, then the channel is closed. */
    final void endAfterFlush() {
        state = State.CLOSED;
        ctx.flush();
        channel.close();
    }

    /**
     * CLOSED: writes and flushes {@code last}, and closes the channel once it has left; with a {@code graceNanos}
     * (not 0), closes it anyway when that has passed.
     */
    final void endWith(MqttPacket last, long graceNanos) {
        state = State.CLOSED;
        ctx.writeAndFlush(encode(last)).addListener(ChannelFutureListener.CLOSE);
        if (graceNanos != 0) {
            ConnectionSweeper sweeper = sweeper();
            deadline = nonZero(sweeper.now() + graceNanos);
            sweeper.schedule(this, deadline);
        }
    }

    /** The channel has closed: CLOSED, no deadline left; answers the state it was in. */
    final State inactive() {
        deadline = NO_DEADLINE;
        if (sweepSlot >= 0) {
            sweeper().cancel(this);
        }
        State previous = state;
        state = State.CLOSED;
        return previous;
    }

    // ---------------------------------------------------------------- deadlines

    /** The clock of the deadlines. */
    final long now() {
        return sweepers().nanoClock().getAsLong();
    }

    /** Starts the keep-alive of the CONNECT (seconds, 0 = none), counted from now. */
    public final void keepAlive(int seconds) {
        if (seconds > 0) {
            // [MQTT-3.1.2-24] (3.1.1) / [MQTT-3.1.2-22] (5.0) allow one and a half times the Keep Alive between
            // packets
            ConnectionSweeper sweeper = sweeper();
            keepAliveNanos = seconds * 1_500_000_000L;
            keepAliveFrom = sweeper.now();
            sweeper.schedule(this, nextDeadline());
        }
    }

    /** A read batch with a packet ended: the keep-alive period starts again (the sweeper finds the later deadline). */
    final void packetsReceived() {
        if (keepAliveNanos > 0) {
            keepAliveFrom = now();
        }
    }

    /**
     * Called by the sweeper once the earliest deadline filed for this connection may have fallen: acts on those that
     * have, and answers the next one ({@link #NO_DEADLINE} for none).
     */
    final long onDeadline(long now) {
        if (deadline != NO_DEADLINE && now - deadline >= 0) {
            deadline = NO_DEADLINE;
            if (state == State.CLOSED) {
                channel.close(); // the DISCONNECT did not leave within the grace period
            } else {
                connectTimedOut();
            }
            return NO_DEADLINE;
        }
        if (state == State.CLOSED) {
            return deadline;
        }
        if (keepAliveNanos > 0 && now - (keepAliveFrom + keepAliveNanos) >= 0) {
            keepAliveFrom = now; // checked again one whole period later (or after the next packet)
            keepAliveExpired();
        }
        return nextDeadline();
    }

    /** The earliest deadline of this connection, {@link #NO_DEADLINE} for none. */
    final long nextDeadline() {
        long next = deadline;
        if (state == State.CLOSED) {
            return next;
        }
        if (keepAliveNanos > 0) {
            long due = keepAliveFrom + keepAliveNanos;
            if (next == NO_DEADLINE || due - next < 0) {
                next = due;
            }
        }
        return next;
    }

    /** {@code nanos}, moved off the value that stands for no deadline. */
    static long nonZero(long nanos) {
        return nanos == NO_DEADLINE ? 1 : nanos;
    }
}
