package io.starling.cluster.link;

import io.starling.broker.metrics.ClusterTraffic;
import java.util.concurrent.atomic.LongAdder;

/**
 * The traffic of the node link with one peer, for the metrics and the logs: messages and bytes each way, messages
 * sent again after a reconnect, duplicates dropped on receipt, messages dropped because too much waited for the peer,
 * and whether the link is up. Any thread may read it; the link's loop writes it.
 */
public final class PeerStats implements ClusterTraffic.Peer {

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

    @Override
    public String name() {
        return peer;
    }

    @Override
    public long messagesSent() {
        return messagesSent.sum();
    }

    @Override
    public long bytesSent() {
        return bytesSent.sum();
    }

    /** Frames of messages sent: each carries a batch. */
    public long framesSent() {
        return framesSent.sum();
    }

    @Override
    public long messagesReceived() {
        return messagesReceived.sum();
    }

    @Override
    public long bytesReceived() {
        return bytesReceived.sum();
    }

    /** Messages sent again on a new connection because the old one closed before the peer acknowledged them. */
    @Override
    public long resent() {
        return resent.sum();
    }

    /** Messages the peer sent again that this node had already applied, dropped. */
    @Override
    public long duplicatesDropped() {
        return duplicatesDropped.sum();
    }

    /** Messages for the peer dropped because the messages waiting for it were at their bound. */
    @Override
    public long overflowDropped() {
        return overflowDropped.sum();
    }

    /** Connections made (the first and every reconnect). */
    @Override
    public long connects() {
        return connects.sum();
    }

    /** Whether the link is up (connected and authenticated). */
    @Override
    public boolean isUp() {
        return up;
    }

    /** Messages waiting for the peer's acknowledgement (sent or not yet). */
    @Override
    public long waiting() {
        return waiting;
    }
}
