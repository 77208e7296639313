/**
 * The broker's event hook for integrations ({@link io.starling.broker.hook.BrokerHook}): connections, sessions,
 * subscriptions and published messages, reported where they happen, at no cost when no hook is set.
 */
package io.starling.broker.hook;
