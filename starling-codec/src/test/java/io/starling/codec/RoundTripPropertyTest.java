package io.starling.codec;

import static org.assertj.core.api.Assertions.assertThat;

import io.starling.codec.packet.MqttPacket;
import java.util.Comparator;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * Generated valid packets of every type, MQTT 3.1.1 and 5.0: encode then decode gives the same packet, and the
 * encoder's size prediction is exact ({@link Codec#encode} checks it). Reason codes are compared by value (0x00 is
 * Success, Normal disconnection or Granted QoS 0 by context).
 */
class RoundTripPropertyTest {

    @Property(tries = 1500)
    void v311PacketsSurviveEncodeDecode(@ForAll("v311") MqttPacket p) throws DecodeException {
        check(p, ProtocolVersion.MQTT_3_1_1);
    }

    @Property(tries = 3000)
    void v5PacketsSurviveEncodeDecode(@ForAll("v5") MqttPacket p) throws DecodeException {
        check(p, ProtocolVersion.MQTT_5);
    }

    @Provide
    Arbitrary<MqttPacket> v311() {
        return PacketArbitraries.packets(ProtocolVersion.MQTT_3_1_1);
    }

    @Provide
    Arbitrary<MqttPacket> v5() {
        return PacketArbitraries.packets(ProtocolVersion.MQTT_5);
    }

    private static void check(MqttPacket p, ProtocolVersion v) throws DecodeException {
        MqttPacket back = Codec.roundTrip(p, v, PacketArbitraries.sender(p));
        assertThat(back).as("%s in %s", p, v).usingRecursiveComparison()
                .withComparatorForType(Comparator.comparingInt(ReasonCode::value), ReasonCode.class)
                .isEqualTo(p);
    }
}
