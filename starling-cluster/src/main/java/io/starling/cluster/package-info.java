/**
 * Several Starling nodes acting as one broker. Embedded Hazelcast keeps membership, failure detection, session
 * ownership and the replicated route tables; PUBLISH traffic between nodes travels in batches over one Netty
 * connection per node pair. Nothing here is started unless the configuration has a {@code cluster:} section.
 * See docs/cluster.md.
 */
package io.starling.cluster;
