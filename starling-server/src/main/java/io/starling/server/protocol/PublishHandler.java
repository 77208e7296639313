package io.starling.server.protocol;

import io.starling.broker.routing.Message;
import io.starling.broker.session.Session;
import io.starling.codec.Properties;
import io.starling.codec.ReasonCode;
import io.starling.codec.packet.PubAckPacket;
import io.starling.codec.packet.PubCompPacket;
import io.starling.codec.packet.PubRecPacket;
import io.starling.codec.packet.PubRelPacket;
import io.starling.codec.packet.PublishPacket;

/**
 * Inbound PUBLISH and PUBREL of one connection: checks, QoS 2 de-duplication, hand-off to the router, and the
 * acknowledgement. Runs on the connection's event loop.
 */
final class PublishHandler {

    private final MqttConnection connection;

    PublishHandler(MqttConnection connection) {
        this.connection = connection;
    }

    void onPublish(PublishPacket p) {
        Session session = connection.session();
        Properties props = p.properties();
        if (props.topicAlias() != null) {
            // Topic Alias Maximum is 0 (not announced in CONNACK), so any alias is invalid [MQTT-3.3.2-9]
            connection.disconnect(ReasonCode.TOPIC_ALIAS_INVALID, "topic alias sent, none allowed");
            return;
        }
        Message m = new Message(p.topic(), p.qos(), p.retain(), p.payload(), props, connection.clientId());
        switch (p.qos()) {
            case 0 -> connection.broker.publish(m);
            case 1 -> {
                connection.broker.publish(m);
                // [MQTT-4.3.2-2] PUBACK once the message is as durable as configured
                int id = p.packetId();
                connection.broker.store().whenDurable(() -> connection.write(PubAckPacket.of(id)));
            }
            case 2 -> {
                if (session.beginInboundQos2(p.packetId())) {
                    if (session.inboundQos2Count() > connection.broker.config().receiveMaximum()
                            && connection.version().isV5()) {
                        // [MQTT-3.3.4-9] more unacknowledged QoS 2 than our Receive Maximum
                        connection.disconnect(ReasonCode.RECEIVE_MAXIMUM_EXCEEDED, "receive maximum exceeded");
                        return;
                    }
                    connection.broker.publish(m);
                }
                // [MQTT-4.3.3-2] PUBREC again for a duplicate, without routing it a second time
                int id = p.packetId();
                connection.broker.store().whenDurable(() -> connection.write(PubRecPacket.of(id)));
            }
            default -> throw new IllegalStateException("QoS " + p.qos());
        }
    }

    void onPubRel(PubRelPacket p) {
        boolean known = connection.session().releaseInboundQos2(p.packetId());
        ReasonCode rc = known || !connection.version().isV5() ? ReasonCode.SUCCESS
                : ReasonCode.PACKET_IDENTIFIER_NOT_FOUND;
        // [MQTT-4.3.3-2] PUBCOMP for every PUBREL
        connection.write(new PubCompPacket(p.packetId(), rc, Properties.EMPTY));
    }
}
