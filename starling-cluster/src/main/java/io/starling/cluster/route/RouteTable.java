package io.starling.cluster.route;

import io.starling.broker.topic.Subscription;
import io.starling.broker.topic.SubscriptionIndex;
import io.starling.broker.topic.Topics;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * The routes of the other nodes as this node knows them: for each node, the filters its clients subscribe to (a
 * shared subscription as {@code $share/{group}/{filter}}) with a count, as read from the replicated route map; and
 * an index of the routes of the nodes that are up, the broker's own {@link SubscriptionIndex} with node names in
 * place of client ids, so a topic is matched against them as on one node (a shared group's members are nodes).
 *
 * <p>Thread-safety: {@link #index()} is matched from any loop without locks; changes (from the map's listener and
 * membership) are serialised on this object.
 */
final class RouteTable {

    private final String self;
    private final SubscriptionIndex index = new SubscriptionIndex();
    /** Every node's routes read from the map, up or not: node → filter → count. */
    private final Map<String, Map<String, Integer>> byNode = new HashMap<>();
    private final Set<String> up = new HashSet<>();

    RouteTable(String self) {
        this.self = self;
    }

    /** The routes of the nodes that are up; match a topic against it from any thread. */
    SubscriptionIndex index() {
        return index;
    }

    /** A route of {@code node} was written (count above 0) or removed (0). */
    synchronized void route(String node, String filter, int count) {
        if (node.equals(self)) {
            return;
        }
        Map<String, Integer> filters = byNode.computeIfAbsent(node, n -> new HashMap<>());
        boolean had = count > 0 ? filters.put(filter, count) != null : filters.remove(filter) != null;
        if (!up.contains(node)) {
            return;
        }
        if (count > 0 && !had) {
            index.add(subscription(node, filter));
        } else if (count <= 0 && had) {
            index.remove(node, filter);
        }
    }

    /** A node is up: its routes match from now on. */
    synchronized void nodeUp(String node) {
        if (node.equals(self) || !up.add(node)) {
            return;
        }
        for (String filter : byNode.getOrDefault(node, Map.of()).keySet()) {
            index.add(subscription(node, filter));
        }
    }

    /** A node is down: nothing more is routed to it (its routes are kept for when it comes back). */
    synchronized void nodeDown(String node) {
        if (!up.remove(node)) {
            return;
        }
        for (String filter : byNode.getOrDefault(node, Map.of()).keySet()) {
            index.remove(node, filter);
        }
    }

    /** Forgets a node's routes (its entries left the map). */
    synchronized void forget(String node) {
        nodeDown(node);
        byNode.remove(node);
    }

    synchronized boolean isUp(String node) {
        return up.contains(node);
    }

    /** How many routes (filters) of {@code node} are known, up or not. */
    synchronized int routes(String node) {
        return byNode.getOrDefault(node, Map.of()).size();
    }

    private static Subscription subscription(String node, String filter) {
        String group = Topics.isShared(filter) ? Topics.shareName(filter) : null;
        return new Subscription(node, filter, 2, false, true, 0, 0, group);
    }
}
