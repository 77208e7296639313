package io.starling.broker.metrics;

import java.util.Collection;

/**
 * The traffic between this node and the other nodes of its cluster, per peer, as the metrics show it; set in
 * {@link BrokerMetrics#cluster} by the cluster, absent on a single node. Read from any thread.
 */
public interface ClusterTraffic {

    /** The peers known (ever connected or sent to), each with its figures. */
    Collection<? extends Peer> peers();

    /** One peer's figures, read when the metrics are scraped. */
    interface Peer {
        /** The peer's node name. */
        String name();

        /** Whether the link to it is up (connected and authenticated). */
        boolean isUp();

        long messagesSent();

        long bytesSent();

        long messagesReceived();

        long bytesReceived();

        /** Messages sent again after a reconnect. */
        long resent();

        /** Messages the peer sent again that this node had applied, dropped. */
        long duplicatesDropped();

        /** Messages for the peer dropped because what waited for it was at its bound. */
        long overflowDropped();

        /** Messages waiting for the peer's acknowledgement now. */
        long waiting();

        /** Connections made to it (the first and every reconnect). */
        long connects();
    }
}
