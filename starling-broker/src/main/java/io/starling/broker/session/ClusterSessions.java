package io.starling.broker.session;

import io.starling.broker.message.PendingWill;
import java.util.function.Consumer;

/**
 * What the broker asks of and tells the cluster it is a node of, about sessions. A single node has {@link #NONE},
 * which accepts every connection and owns every client id. Implementations are called from event loops and must not
 * block; what they tell the cluster they do asynchronously.
 */
public interface ClusterSessions {

    /** A single node: every connection is accepted, every client id is this node's. */
    ClusterSessions NONE = () -> true;

    /**
     * Client ids of sessions that belong to their node and never to the cluster: a bridge's local session
     * ({@code $bridge/<name>}), which every node running the same bridge configuration has under the same id. The
     * cluster neither claims, records nor moves them.
     */
    String NODE_LOCAL_PREFIX = "$bridge/";

    /** Whether the session of {@code clientId} is this node's alone (see {@link #NODE_LOCAL_PREFIX}). */
    static boolean nodeLocal(String clientId) {
        return clientId.startsWith(NODE_LOCAL_PREFIX);
    }

    /**
     * Whether this node accepts new connections now: a node that sees fewer members than the cluster's minimum size
     * (a partition's minority) refuses them, and keeps serving the clients it has.
     */
    boolean acceptsConnections();

    /**
     * Makes this node the owner of {@code clientId} before its session is opened here. If another node held the
     * session, that node disconnects its connection (5.0: DISCONNECT 0x8E) and hands the session over; {@code then}
     * gets what moved ({@code null}: nothing, the session is new or this node's already), from any thread.
     */
    default void claim(String clientId, boolean cleanStart, Consumer<MovedSession> then) {
        then.accept(null);
    }

    /**
     * A connection was attached to the session (on its owner); {@code will} is the connection's Will, if any. Runs
     * {@code then} (from any thread) once the cluster has recorded the Will, so that a CONNACK is never sent for a
     * Will that a crash of this node would lose.
     */
    default void attached(Session session, PendingWill will, Runnable then) {
        then.run();
    }

    /** The session's subscriptions changed (on its owner). */
    default void subscriptionsChanged(Session session) {
    }

    /**
     * The session's connection ended (on its owner) and the session lives on; {@code pendingWill} is a Will waiting
     * for its Will Delay Interval, {@code null} if none is left to publish.
     */
    default void detached(Session session, PendingWill pendingWill) {
    }

    /** The session of {@code clientId} ended on this node (expired, cleaned, or handed to another node). */
    default void ended(String clientId) {
    }
}
