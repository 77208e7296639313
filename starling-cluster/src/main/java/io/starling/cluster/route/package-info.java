/**
 * Routes between the nodes of a cluster: each node's subscriptions as routes in a replicated map (each node writes
 * only its own), a local index of the other nodes' routes, and the routing hook that sends a message once to each
 * node with a matching route ({@link io.starling.cluster.route.ClusterMessaging}).
 */
package io.starling.cluster.route;
