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

    // outbound: the messages waiting for the peer, oldest first, at ring positions head .. tail-1 (index: position &
    // mask), each with its sequence number (increasing, not necessarily contiguous: a stored message's number is its
    // position in the node's store); the ring starts small and doubles up to the bound of what may wait
    private Message[] ring;
    private Object[] ringGroups;
    private long[] ringSeqs;
    /** For a message of the node's stored outbox: its store handle, acknowledged there once the peer has it. */
    private Object[] ringTokens;
    private int mask;
    private long head;
    private long tail;
    /** Ring position up to which messages are written on the current connection. */
    private long sentPos;
    /** Up to this ring position, what is written now is a resend. */
    private long resendEnd;
    /** The last sequence number given. */
    private long lastSeq;
    /** The highest sequence the peer acknowledged. */
    private long acked;
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
        this.ringSeqs = new long[capacity];
        this.ringTokens = new Object[capacity];
        this.mask = capacity - 1;
        this.overflowLog = new RateLimitedLog(LOG, Level.WARN, Duration.ofSeconds(10));
    }

    /** Adds a message for the peer with the next sequence number, unless too much waits already (dropped, counted). */
    void enqueue(Message m, List<String> groups) {
        long seq = lastSeq + 1;
        if (link.storedSeqs && (seq & NodeLink.STORED_BLOCK_MASK) == 0) {
            // the numbers after the last stored message are used up: the next stored one's number must stay above
            stats.overflowDropped.increment();
            overflowLog.log("Node link to '{}': too many messages not from the store in a row, message on '{}' dropped",
                    name, m.topic());
            return;
        }
        add(m, groups, seq, null);
    }

    /**
     * Adds a message of the node's stored outbox with its own sequence number (its store position, above every number
     * given before); {@code token} goes back to the outbox once the peer has the message.
     */
    void enqueueStored(Message m, List<String> groups, long seq, Object token) {
        if (seq <= lastSeq) {
            LOG.warn("Node link to '{}': stored message {} is not after {}; sent with the next number", name, seq,
                    lastSeq);
            seq = lastSeq + 1;
        }
        add(m, groups, seq, token);
    }

    private void add(Message m, List<String> groups, long seq, Object token) {
        long waiting = tail - head;
        long weight = Frames.weight(m);
        if (waiting >= ring.length && ring.length < link.settings.maxWaiting()) {
            grow();
        }
        if (waiting >= ring.length || waitingBytes + weight > link.settings.maxWaitingBytes()) {
            stats.overflowDropped.increment();
            overflowLog.log("Node link to '{}': {} messages ({} bytes) wait for it, message on '{}' dropped", name,
                    waiting, waitingBytes, m.topic());
            if (token != null) {
                link.released(name, token);
            }
            return;
        }
        int slot = (int) (tail & mask);
        ring[slot] = m;
        ringGroups[slot] = groups;
        ringSeqs[slot] = seq;
        ringTokens[slot] = token;
        tail++;
        lastSeq = seq;
        waitingBytes += weight;
        stats.waiting = tail - head;
        if (channel != null) {
            counted++;
            link.backlog.added(1);
        }
    }

    /** Doubles the ring, keeping the order. */
    private void grow() {
        int capacity = ring.length * 2;
        Message[] r = new Message[capacity];
        Object[] g = new Object[capacity];
        long[] q = new long[capacity];
        Object[] t = new Object[capacity];
        int m = capacity - 1;
        for (long p = head; p < tail; p++) {
            int from = (int) (p & mask);
            int to = (int) (p & m);
            r[to] = ring[from];
            g[to] = ringGroups[from];
            q[to] = ringSeqs[from];
            t[to] = ringTokens[from];
        }
        ring = r;
        ringGroups = g;
        ringSeqs = q;
        ringTokens = t;
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
        while (sentPos < tail && ch.isWritable()) {
            ByteBuf buf = ch.alloc().buffer(4096);
            int start = Frames.begin(buf, Frames.DATA);
            int countAt = buf.writerIndex();
            buf.writeInt(0);
            long first = sentPos;
            int count = 0;
            while (sentPos < tail && count < link.settings.batch()
                    && buf.writerIndex() - start < link.settings.maxFrameBytes()) {
                int slot = (int) (sentPos & mask);
                buf.writeLong(ringSeqs[slot]);
                Frames.writeMessage(buf, ring[slot], (List<String>) ringGroups[slot], now);
                sentPos++;
                count++;
            }
            buf.setInt(countAt, count);
            Frames.end(buf, start);
            stats.messagesSent.add(count);
            stats.framesSent.increment();
            stats.bytesSent.add(buf.readableBytes());
            if (first < resendEnd) {
                stats.resent.add(Math.min(sentPos, resendEnd) - first);
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
        if (seq > lastSeq) {
            throw new IllegalArgumentException("acknowledgement of " + seq + " beyond the last message sent " + lastSeq);
        }
        acked = seq;
        while (head < tail && ringSeqs[(int) (head & mask)] <= seq) {
            int slot = (int) (head & mask);
            waitingBytes -= Frames.weight(ring[slot]);
            Object token = ringTokens[slot];
            ring[slot] = null;
            ringGroups[slot] = null;
            ringTokens[slot] = null;
            head++;
            if (token != null) {
                link.released(name, token);
            }
        }
        if (sentPos < head) {
            sentPos = head;
        }
        long waiting = tail - head;
        stats.waiting = waiting;
        if (counted > waiting) {
            link.backlog.removed((int) (counted - waiting));
            counted = waiting;
        }
    }

    /**
     * The peer applied numbers this run of the node never gave (it applied them from an earlier run, before a
     * restart): every stored message waiting now is older than those (store positions only grow), so the peer has it
     * and it goes; the messages not from the store, numbered by this run, are numbered again after what the peer
     * applied (the peer would otherwise drop them, and never applied them: it dropped any it was sent).
     */
    private void restartedPeerAhead(long peerApplied) {
        long prev = peerApplied;
        long keep = head;
        for (long p = head; p < tail; p++) {
            int slot = (int) (p & mask);
            Object token = ringTokens[slot];
            if (token != null) {
                waitingBytes -= Frames.weight(ring[slot]);
                ring[slot] = null;
                ringGroups[slot] = null;
                ringTokens[slot] = null;
                link.released(name, token);
                continue;
            }
            int to = (int) (keep & mask);
            ring[to] = ring[slot];
            ringGroups[to] = ringGroups[slot];
            ringTokens[to] = null;
            ringSeqs[to] = ++prev;
            if (to != slot) {
                ring[slot] = null;
                ringGroups[slot] = null;
            }
            keep++;
        }
        tail = keep;
        sentPos = head;
        lastSeq = prev;
        acked = peerApplied;
        stats.waiting = tail - head;
        if (counted > tail - head) {
            link.backlog.removed((int) (counted - (tail - head)));
            counted = tail - head;
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
        if (peerApplied > lastSeq) {
            restartedPeerAhead(peerApplied);
        } else if (peerApplied > acked) {
            onAck(peerApplied);
        }
        resendEnd = Math.max(resendEnd, sentPos);
        sentPos = head;
        long waiting = tail - head;
        if (waiting > counted) {
            link.backlog.added((int) (waiting - counted));
            counted = waiting;
        }
        ackSent = 0;
        stats.connects.increment();
        stats.up = true;
        attempts = 0;
        LOG.info("Node link to '{}' up ({} {}), {} message(s) to send again", name, dialed ? "dialed" : "accepted",
                ch.remoteAddress(), Math.max(0, resendEnd - sentPos));
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
            LOG.info("Node link to '{}' down: {}; {} message(s) wait for it", name, reason, tail - head);
        } else {
            LOG.warn("Node link to '{}' down: {}; {} message(s) wait for it", name, reason, tail - head);
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
        int count = frame.readInt();
        if (count < 0 || count > frame.readableBytes()) {
            throw new IllegalArgumentException("bad data frame (count " + count + ")");
        }
        long now = System.currentTimeMillis();
        long before = applied;
        int[] fresh = new int[1];
        link.inbound.atomically(() -> {
            for (int i = 0; i < count; i++) {
                long seq = frame.readLong();
                Frames.Received r = Frames.readMessage(frame, now);
                if (seq <= applied) {
                    stats.duplicatesDropped.increment();
                    continue;
                }
                link.inbound.apply(name, r.message(), r.groups());
                applied = seq;
                fresh[0]++;
            }
            if (applied > before) {
                link.inbound.applied(name, peerIncarnation, applied);
            }
        });
        if (frame.isReadable()) {
            throw new IllegalArgumentException("data frame with " + frame.readableBytes() + " bytes left over");
        }
        stats.messagesReceived.add(fresh[0]);
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
