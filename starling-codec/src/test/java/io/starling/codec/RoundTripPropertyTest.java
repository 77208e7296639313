package io.starling.codec;

import static org.assertj.core.api.Assertions.assertThat;

import io.starling.codec.packet.MqttPacket;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.Set;
import org.assertj.core.api.recursive.comparison.RecursiveComparisonConfiguration;
import org.junit.jupiter.api.Test;

/**
 * Generated valid packets of every type, MQTT 3.1.1 and 5.0 ({@link PacketGenerators}, seeded: see {@link Tries}):
 * encode then decode gives the same packet, and the encoder's size prediction is exact ({@link Codec#encode} checks
 * it). Reason codes are compared by value (0x00 is Success, Normal disconnection or Granted QoS 0 by context).
 */
class RoundTripPropertyTest {

    /** Field by field, reason codes by value; made once, as the tries are many. */
    private static final RecursiveComparisonConfiguration SAME_PACKET = RecursiveComparisonConfiguration.builder()
            .withComparatorForType(Comparator.comparingInt(ReasonCode::value), ReasonCode.class).build();

    @Test
    void v311PacketsSurviveEncodeDecode() {
        check(ProtocolVersion.MQTT_3_1_1, 0x3_1_1_0000L, 1500);
    }

    @Test
    void v5PacketsSurviveEncodeDecode() {
        check(ProtocolVersion.MQTT_5, 0x5_0_0000L, 3000);
    }

    private static void check(ProtocolVersion v, long seed, int tries) {
        Set<PacketType> generated = EnumSet.noneOf(PacketType.class);
        Tries.check("round trip in " + v, seed, tries, r -> PacketGenerators.packet(r, v),
                p -> p + " in " + v, p -> {
                    generated.add(p.type());
                    MqttPacket back = Codec.roundTrip(p, v, PacketGenerators.sender(p));
                    assertThat(back).usingRecursiveComparison(SAME_PACKET).isEqualTo(p);
                });
        if (System.getProperty(Tries.TRIES_PROPERTY) == null) {
            assertThat(generated).as("packet types generated").containsExactlyInAnyOrderElementsOf(
                    PacketGenerators.types(v));
        }
    }
}
