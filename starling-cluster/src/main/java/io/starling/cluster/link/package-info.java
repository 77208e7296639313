/**
 * The node link: messages between the nodes of a cluster, in batches over one authenticated TCP connection per node
 * pair, with per-peer sequence numbers, cumulative acknowledgements, resend after a reconnect and duplicate drop
 * ({@link io.starling.cluster.link.NodeLink}).
 */
package io.starling.cluster.link;
