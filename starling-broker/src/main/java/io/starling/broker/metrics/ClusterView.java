package io.starling.broker.metrics;

import java.util.List;

/**
 * This node's view of its cluster for the admin API's overview: its name, whether it accepts connections, its
 * {@code min-size} and the members it sees now. Set in {@link BrokerMetrics#clusterView} by the cluster, absent on a
 * single node. Read from any thread; reading costs no remote call.
 */
public interface ClusterView {

    /** This node's name. */
    String nodeName();

    /** The {@code min-size} of the config: below it this node refuses new connections. */
    int minSize();

    /** Whether this node accepts new connections (it sees at least {@code min-size} members). */
    boolean acceptsConnections();

    /** The members this node sees now, itself included, sorted by name. */
    List<Node> members();

    /**
     * One member of the cluster.
     *
     * @param name the node's name
     * @param address {@code host:port} of its membership port
     * @param link {@code host:port} of its node link, {@code null} if it published none
     * @param local whether it is this node
     */
    record Node(String name, String address, String link, boolean local) {
    }
}
