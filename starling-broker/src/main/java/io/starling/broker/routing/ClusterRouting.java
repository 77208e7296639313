package io.starling.broker.routing;

import io.starling.broker.message.Message;
import io.starling.broker.topic.SharedGroup;
import java.util.List;

/**
 * The routes to the other nodes of a cluster, as the {@link Router} sees them: installed in the broker by the cluster
 * ({@code Broker.clusterRouting}); without a cluster there is none and routing is as on a single node (the router's
 * only cost is a null check).
 *
 * <p>Called on the publisher's event loop for each message published on this node (never for one that came from a
 * peer: a message is forwarded once, by the node its publisher is connected to, and never again).
 */
public interface ClusterRouting {

    /**
     * Hands {@code m} to every other node whose routes match its topic, each node once however many of its clients
     * subscribe; for each shared subscription group that matches somewhere but has no member on this node, to one node
     * that has members (which picks the member). Must not block; the message is sent in batches later.
     *
     * @param m the message, as published on this node
     * @param localGroups the shared groups that matched on this node (a member here takes the message, so no other node
     *     is asked to), {@code null} if none
     * @return whether at least one other node takes the message
     */
    boolean forward(Message m, List<SharedGroup> localGroups);
}
