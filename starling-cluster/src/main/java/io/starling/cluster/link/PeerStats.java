package io.starling.cluster.link;

import java.util.concurrent.atomic.LongAdder;

/**
 * The traffic of the node link with one peer, for the metrics and the logs: messages and bytes each way, messages
 * sent again after a reconnect, duplicates dropped on receipt, messages dropped because too much waited for the peer,
 * and whether the link is up. Any thread may read it; the link's loop writes it.
 */
public final class PeerStats {

    private final String peer;
    final LongAdder messagesSent = new LongAdder();
    final LongAdder bytesSent = new LongAdder();
    final LongAdder framesSent = new LongAdder();
    final LongAdder messagesReceived = new LongAdder();
    final LongAdder bytesReceived = new LongAdder();
    final LongAdder resent = new LongAdder();
    final LongAdder duplicatesDropped = new LongAdder();
    final LongAdder overflowDropped = new LongAdder();
    final LongAdder connects = new LongAdder();
    volatile boolean up;
    volatile long waiting;

    PeerStats(String peer) {
        this.peer = peer;
    }

    /** The peer's node name. */
    public String peer() {
        return peer;
    }

    public long messagesSent() {
        return messagesSent.sum();
    }

    public long bytesSent() {
        return bytesSent.sum();
    }

    /** Frames of messages sent: each carries a batch. */
    public long framesSent() {
        return framesSent.sum();
    }

    public long messagesReceived() {
        return messagesReceived.sum();
    }

    public long bytesReceived() {
        return bytesReceived.sum();
    }

    /** Messages sent again on a new connection because the old one closed before the peer acknowledged them. */
    public long resent() {
        return resent.sum();
    }

    /** Messages the peer sent again that this node had already applied, dropped. */
    public long duplicatesDropped() {
        return duplicatesDropped.sum();
    }

    /** Messages for the peer dropped because the messages waiting for it were at their bound. */
    public long overflowDropped() {
        return overflowDropped.sum();
    }

    /** Connections made (the first and every reconnect). */
    public long connects() {
        return connects.sum();
    }

    /** Whether the link is up (connected and authenticated). */
    public boolean isUp() {
        return up;
    }

    /** Messages waiting for the peer's acknowledgement (sent or not yet). */
    public long waiting() {
        return waiting;
    }
}
