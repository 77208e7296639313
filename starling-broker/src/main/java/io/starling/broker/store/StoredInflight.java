package io.starling.broker.store;

import io.starling.broker.message.Delivery;

/**
 * An outbound QoS 2 message of a recovered session that had been sent and not completed.
 *
 * @param packetId its packet id
 * @param delivery the stored delivery when PUBREC had not arrived (it is re-sent with DUP=1 and the same packet id
 *     [MQTT-4.4.0-1]); {@code null} when PUBREL is pending (PUBREL is re-sent)
 */
public record StoredInflight(int packetId, Delivery delivery) {
}
