package io.starling.server;

import io.netty.channel.EventLoopGroup;
import io.starling.broker.Broker;
import io.starling.broker.config.BrokerConfig;
import io.starling.cluster.ClusterNode;

/**
 * Starts this node's membership of its cluster. The only class of the server that names a class of starling-cluster:
 * it is loaded (and with it Hazelcast) only when the config has a {@code cluster} section, so a single node loads no
 * cluster class at all.
 */
final class ClusterStart {

    private ClusterStart() {
    }

    static AutoCloseable start(BrokerConfig config, Broker broker, EventLoopGroup group) {
        return ClusterNode.start(config.cluster(), broker, group);
    }
}
