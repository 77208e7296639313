package io.starling.codec.packet;

import io.starling.codec.Properties;

/**
 * The Will of a CONNECT packet: published by the server when the connection ends abnormally.
 *
 * @param topic Will Topic
 * @param payload Will Payload (read-only)
 * @param qos Will QoS, 0..2
 * @param retain Will Retain
 * @param properties Will Properties (MQTT 5.0), {@link Properties#EMPTY} otherwise
 */
public record Will(String topic, byte[] payload, int qos, boolean retain, Properties properties) {
}
