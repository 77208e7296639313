/**
 * MQTT bridges: the broker connects as a client to other brokers and forwards topics both ways (the {@code bridges}
 * section of the config file, docs/integrations.md). The local side of a bridge is an ordinary persistent session of
 * the broker ({@code $bridge/<name>}) whose connection is the link to the remote broker; the remote side is a Netty
 * client on the codec.
 */
package io.starling.server.bridge;
