package io.starling.cluster.route;

import io.starling.broker.config.BrokerConfig.SharedSubscriptionStrategy;
import io.starling.broker.message.Message;
import io.starling.broker.routing.ClusterRouting;
import io.starling.broker.routing.Router;
import io.starling.broker.topic.SharedGroup;
import io.starling.broker.topic.Subscription;
import io.starling.broker.topic.SubscriptionIndex;
import java.util.ArrayList;
import java.util.List;

/**
 * The router's way to the other nodes: matches a message published here against the routes of the nodes that are up
 * and sends it once to each node that has a matching route; for a shared group with no member on this node, one node
 * that has members is chosen (round robin) and told which group to serve, in the same single copy.
 *
 * <p>Runs on the publisher's loop; the scratch state of one match is per thread and reused.
 */
final class RemoteRouter implements ClusterRouting {

    private static final SharedGroup.Members ANY_NODE_UP = (node, topic) -> SharedGroup.Members.ONLINE;

    /** Sends one message to one node (through the stored outbox or the link). */
    interface Sender {
        void send(String node, Message m, List<String> groups);
    }

    private final RouteTable routes;
    private final Sender link;
    private final ThreadLocal<Targets> scratch = ThreadLocal.withInitial(Targets::new);

    RemoteRouter(RouteTable routes, Sender link) {
        this.routes = routes;
        this.link = link;
    }

    @Override
    public boolean forward(Message m, List<SharedGroup> localGroups) {
        Targets t = scratch.get();
        t.begin(m, localGroups);
        routes.index().match(m.topic(), t);
        int n = t.nodes.size();
        for (int i = 0; i < n; i++) {
            List<String> g = t.groups.get(i);
            link.send(t.nodes.get(i), m, g == null ? null : new ArrayList<>(g));
        }
        t.end();
        return n > 0;
    }

    /** The nodes one message goes to, each once, with the shared groups each is to serve. */
    private static final class Targets implements SubscriptionIndex.MatchSink {
        final List<String> nodes = new ArrayList<>(4);
        final List<List<String>> groups = new ArrayList<>(4);
        private Message message;
        private List<SharedGroup> local;

        void begin(Message m, List<SharedGroup> localGroups) {
            this.message = m;
            this.local = localGroups;
        }

        void end() {
            nodes.clear();
            for (List<String> g : groups) {
                if (g != null) {
                    g.clear();
                }
            }
            groups.clear();
            message = null;
            local = null;
        }

        private int indexOf(String node) {
            for (int i = 0; i < nodes.size(); i++) {
                if (nodes.get(i).equals(node)) {
                    return i;
                }
            }
            nodes.add(node);
            groups.add(null);
            return nodes.size() - 1;
        }

        @Override
        public void onSubscription(Subscription s) {
            indexOf(s.clientId());
        }

        @Override
        public void onSharedGroup(SharedGroup g) {
            if (local != null) {
                for (SharedGroup l : local) {
                    if (l.name().equals(g.name()) && l.topicFilter().equals(g.topicFilter())) {
                        return; // local first: a member on this node takes it
                    }
                }
            }
            Subscription s = g.pick(SharedSubscriptionStrategy.ROUND_ROBIN, message.publisherId(), message.topic(),
                    ANY_NODE_UP, null);
            if (s == null) {
                return;
            }
            int i = indexOf(s.clientId());
            List<String> list = groups.get(i);
            if (list == null) {
                list = new ArrayList<>(2);
                groups.set(i, list);
            }
            list.add(Router.groupKey(g.name(), g.topicFilter()));
        }
    }
}
