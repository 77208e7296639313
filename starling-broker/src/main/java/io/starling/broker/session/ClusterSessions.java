package io.starling.broker.session;

/**
 * What the broker asks of a cluster it is a node of, when a client connects. The server asks
 * {@link SessionManager#acceptsConnections()} before it opens a session; a single node has {@link #NONE}, which
 * always accepts. Implementations are called from event loops and must not block.
 */
public interface ClusterSessions {

    /** A single node: every connection is accepted. */
    ClusterSessions NONE = () -> true;

    /**
     * Whether this node accepts new connections now: a node that sees fewer members than the cluster's minimum size
     * (a partition's minority) refuses them, and keeps serving the clients it has.
     */
    boolean acceptsConnections();
}
