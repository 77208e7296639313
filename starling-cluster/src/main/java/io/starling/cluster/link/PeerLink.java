package io.starling.cluster.link;

import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.starling.broker.message.Message;
import io.starling.broker.log.RateLimitedLog;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * The link with one peer: what waits for it (a ring of messages by sequence number), the connection in use, and what
 * this node applied from it. Confined to the link's loop.
 */
final class PeerLink {

    private static final Logger LOG = LoggerFactory.getLogger(PeerLink.class);

    final NodeLink link;
    final String name;
    final PeerStats stats;
    /** Whether the membership says the peer is in the cluster. */
    boolean member;
    /** Where to dial it (when this node dials). */
    InetSocketAddress address;
    /** The authenticated connection in use, {@code null} while there is none. */
    Channel channel;
    boolean dialing;
    /** Attempts to connect since the link was last up, for the pause before the next. */
    int attempts;

    // outbound: messages acked+1 .. nextSeq-1 wait, in ring[seq & mask]; the ring starts small and doubles up to
    // the bound of what may wait, so an idle peer costs little
    private Message[] ring;
    private Object[] ringGroups;
    private int mask;
    /** The next sequence number to give. */
    private long nextSeq = 1;
    /** The highest sequence the peer acknowledged. */
    private long acked;
    /** The highest sequence written on the current connection. */
    private long sent;
    /** Up to this sequence, what is written now is a resend. */
    private long resendUpTo;
    private long waitingBytes;
    /** Of the messages waiting, those counted in the link's {@link NodeLink.Backlog} (while connected). */
    private long counted;
    private boolean pumpScheduled;
    private final Runnable pump = this::pump;
    private final RateLimitedLog overflowLog;

    // inbound
    /** The peer's incarnation whose sequence {@link #applied} counts. */
    long peerIncarnation;
    /** The highest sequence applied from the peer's incarnation. */
    long applied;
    private long durable;
    private long ackSent;
    private boolean ackScheduled;
    private final Runnable ack = this::writeAck;

    PeerLink(NodeLink link, String name) {
        this.link = link;
        this.name = name;
        this.stats = new PeerStats(name);
        int capacity = Math.min(1024, link.settings.maxWaiting());
        this.ring = new Message[capacity];
        this.ringGroups = new Object[capacity];
        this.mask = capacity - 1;
        this.overflowLog = new RateLimitedLog(LOG, Level.WARN, Duration.ofSeconds(10));
    }

    /** Adds a message for the peer, unless too much waits already (then it is dropped and counted). */
    void enqueue(Message m, List<String> groups) {
        long waiting = nextSeq - 1 - acked;
        long weight = Frames.weight(m);
        if (waiting >= ring.length && ring.length < link.settings.maxWaiting()) {
            grow();
        }
        if (waiting >= ring.length || waitingBytes + weight > link.settings.maxWaitingBytes()) {
            stats.overflowDropped.increment();
            overflowLog.log("Node link to '{}': {} messages ({} bytes) wait for it, message on '{}' dropped", name,
                    waiting, waitingBytes, m.topic());
            return;
        }
        int slot = (int) (nextSeq & mask);
        ring[slot] = m;
        ringGroups[slot] = groups;
        nextSeq++;
        waitingBytes += weight;
        stats.waiting = nextSeq - 1 - acked;
        if (channel != null) {
            counted++;
            link.backlog.added(1);
        }
    }

    /** Doubles the ring, each waiting message keeping its sequence number. */
    private void grow() {
        int capacity = ring.length * 2;
        Message[] r = new Message[capacity];
        Object[] g = new Object[capacity];
        int m = capacity - 1;
        for (long s = acked + 1; s < nextSeq; s++) {
            r[(int) (s & m)] = ring[(int) (s & mask)];
            g[(int) (s & m)] = ringGroups[(int) (s & mask)];
        }
        ring = r;
        ringGroups = g;
        mask = m;
    }

    /** Writes what waits once, at the end of the loop's current tasks. */
    void schedulePump() {
        if (!pumpScheduled && channel != null) {
            pumpScheduled = true;
            link.loop.execute(pump);
        }
    }

    /** Writes frames of what is not yet sent on this connection while the socket takes them, then flushes once. */
    @SuppressWarnings("unchecked")
    void pump() {
        pumpScheduled = false;
        Channel ch = channel;
        if (ch == null || !ch.isActive()) {
            return;
        }
        boolean wrote = false;
        long now = System.currentTimeMillis();
        while (sent < nextSeq - 1 && ch.isWritable()) {
            ByteBuf buf = ch.alloc().buffer(4096);
            int start = Frames.begin(buf, Frames.DATA);
            long first = sent + 1;
            buf.writeLong(first);
            int countAt = buf.writerIndex();
            buf.writeInt(0);
            int count = 0;
            while (sent < nextSeq - 1 && count < link.settings.batch()
                    && buf.writerIndex() - start < link.settings.maxFrameBytes()) {
                long seq = sent + 1;
                int slot = (int) (seq & mask);
                Frames.writeMessage(buf, ring[slot], (List<String>) ringGroups[slot], now);
                sent = seq;
                count++;
            }
            buf.setInt(countAt, count);
            Frames.end(buf, start);
            stats.messagesSent.add(count);
            stats.framesSent.increment();
            stats.bytesSent.add(buf.readableBytes());
            if (first <= resendUpTo) {
                stats.resent.add(Math.min(sent, resendUpTo) - first + 1);
            }
            ch.write(buf, ch.voidPromise());
            wrote = true;
        }
        if (wrote) {
            ch.flush();
        }
    }

    /** The peer applied (and stored) everything up to {@code seq}: that is let go. */
    void onAck(long seq) {
        if (seq <= acked) {
            return;
        }
        if (seq >= nextSeq) {
            throw new IllegalArgumentException("acknowledgement of " + seq + " beyond the last message sent "
                    + (nextSeq - 1));
        }
        for (long s = acked + 1; s <= seq; s++) {
            int slot = (int) (s & mask);
            waitingBytes -= Frames.weight(ring[slot]);
            ring[slot] = null;
            ringGroups[slot] = null;
        }
        acked = seq;
        if (sent < acked) {
            sent = acked;
        }
        long waiting = nextSeq - 1 - acked;
        stats.waiting = waiting;
        if (counted > waiting) {
            link.backlog.removed((int) (counted - waiting));
            counted = waiting;
        }
    }

    /**
     * A connection to the peer is authenticated: it replaces the one in use, and sending resumes after what the peer
     * says it applied from this node's incarnation.
     */
    void attach(Channel ch, long peerApplied, boolean dialed) {
        Channel old = channel;
        channel = ch;
        if (old != null && old != ch) {
            old.close();
        }
        if (peerApplied > acked) {
            onAck(Math.min(peerApplied, nextSeq - 1));
        }
        resendUpTo = Math.max(resendUpTo, sent);
        sent = acked;
        long waiting = nextSeq - 1 - acked;
        if (waiting > counted) {
            link.backlog.added((int) (waiting - counted));
            counted = waiting;
        }
        ackSent = 0;
        stats.connects.increment();
        stats.up = true;
        attempts = 0;
        LOG.info("Node link to '{}' up ({} {}), {} message(s) to send again", name, dialed ? "dialed" : "accepted",
                ch.remoteAddress(), Math.max(0, resendUpTo - sent));
        if (durable > 0) {
            scheduleAck();
        }
        schedulePump();
    }

    /** A connection closed; if it was the one in use, the link is down until the next. */
    void detached(Channel ch, String reason) {
        if (channel != ch) {
            return;
        }
        channel = null;
        stats.up = false;
        if (counted > 0) {
            link.backlog.removed((int) counted); // a peer that is away must not pause this node's publishers
            counted = 0;
        }
        if (link.isClosed() || !member) {
            LOG.info("Node link to '{}' down: {}; {} message(s) wait for it", name, reason, nextSeq - 1 - acked);
        } else {
            LOG.warn("Node link to '{}' down: {}; {} message(s) wait for it", name, reason, nextSeq - 1 - acked);
        }
    }

    void close(String reason) {
        Channel ch = channel;
        if (ch != null) {
            detached(ch, reason);
            ch.close();
        }
    }

    /**
     * The peer announced (and proved) incarnation {@code inc}: if it is a new one (the peer restarted), its sequence
     * starts again.
     */
    void peerIncarnation(long inc) {
        if (inc != peerIncarnation) {
            peerIncarnation = inc;
            applied = 0;
            durable = 0;
            ackSent = 0;
        }
    }

    /** What this node had applied from the peer before a restart. */
    void restoreApplied(long inc, long seq) {
        peerIncarnation = inc;
        applied = seq;
        durable = seq;
    }

    /** What this node applied from {@code inc}, for the handshake (0 for an incarnation not seen yet). */
    long appliedFrom(long inc) {
        return inc == peerIncarnation ? applied : 0;
    }

    /** A frame of messages from the peer: the ones not applied yet are applied, then acknowledged once stored. */
    void onData(Channel ch, ByteBuf frame) {
        int bytes = frame.readableBytes() + 5;
        long first = frame.readLong();
        int count = frame.readInt();
        if (first < 1 || count < 0 || count > frame.readableBytes()) {
            throw new IllegalArgumentException("bad data frame (first " + first + ", count " + count + ")");
        }
        long now = System.currentTimeMillis();
        long before = applied;
        link.inbound.atomically(() -> {
            for (int i = 0; i < count; i++) {
                Frames.Received r = Frames.readMessage(frame, now);
                long seq = first + i;
                if (seq <= applied) {
                    stats.duplicatesDropped.increment();
                    continue;
                }
                link.inbound.apply(name, r.message(), r.groups());
                applied = seq;
            }
            if (applied > before) {
                link.inbound.applied(name, peerIncarnation, applied);
            }
        });
        if (frame.isReadable()) {
            throw new IllegalArgumentException("data frame with " + frame.readableBytes() + " bytes left over");
        }
        stats.messagesReceived.add(applied - before);
        stats.bytesReceived.add(bytes);
        link.inbound.pauseIfBusy(() -> ch.config().setAutoRead(false),
                () -> ch.eventLoop().execute(() -> ch.config().setAutoRead(true)));
        long upTo = applied;
        long inc = peerIncarnation;
        link.inbound.whenApplied(() -> {
            if (inc == peerIncarnation && upTo > durable) {
                durable = upTo;
                scheduleAck();
            }
        }, () -> {
            LOG.warn("Node link to '{}': messages from it could not be stored; reconnecting so that it sends them again",
                    name);
            ch.close();
        });
    }

    private void scheduleAck() {
        if (!ackScheduled) {
            ackScheduled = true;
            link.loop.execute(ack);
        }
    }

    private void writeAck() {
        ackScheduled = false;
        Channel ch = channel;
        if (ch == null || durable <= ackSent) {
            return;
        }
        ByteBuf b = ch.alloc().buffer(16);
        int start = Frames.begin(b, Frames.ACK);
        b.writeLong(durable);
        Frames.end(b, start);
        ackSent = durable;
        ch.writeAndFlush(b, ch.voidPromise());
    }
}
