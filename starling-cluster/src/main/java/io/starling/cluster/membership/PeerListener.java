package io.starling.cluster.membership;

import java.net.InetSocketAddress;

/**
 * Told when another node joins or leaves the cluster (from Hazelcast's event threads; members present at start are
 * announced as joined). The node link connects to and drops peers through it.
 */
public interface PeerListener {

    /** Node {@code node} is a member; its node link listens at {@code link}. */
    void memberUp(String node, InetSocketAddress link);

    /** Node {@code node} left or was dropped. */
    void memberDown(String node);
}
