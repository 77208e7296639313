package io.starling.server.bridge;

import static org.assertj.core.api.Assertions.assertThat;

import io.starling.broker.config.BridgeConfig.Direction;
import io.starling.broker.config.BridgeConfig.Mapping;
import java.util.List;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

/** The bridge's pure parts: topic mapping with Mosquitto's prefix semantics, and the reconnect delay. */
class BridgeUnitTest {

    /** A random generator that always draws the lowest or the highest value of the range. */
    private static RandomGenerator always(boolean highest) {
        return new RandomGenerator() {
            @Override
            public long nextLong() {
                throw new UnsupportedOperationException();
            }

            @Override
            public long nextLong(long bound) {
                return highest ? bound - 1 : 0;
            }
        };
    }

    @Test
    void reconnectDelayDoublesUpToTheMaximumWithJitterBetweenHalfAndAll() {
        for (int attempt = 0; attempt < 30; attempt++) {
            long base = Math.min(60_000, 1_000L << Math.min(attempt, 20));
            assertThat(Bridge.reconnectDelay(attempt, 1_000, 60_000, always(false))).isEqualTo(base / 2);
            assertThat(Bridge.reconnectDelay(attempt, 1_000, 60_000, always(true))).isEqualTo(base);
        }
        assertThat(Bridge.reconnectDelay(0, 1_000, 60_000, always(true))).isEqualTo(1_000);
        assertThat(Bridge.reconnectDelay(3, 1_000, 60_000, always(true))).isEqualTo(8_000);
        assertThat(Bridge.reconnectDelay(40, 1_000, 60_000, always(true))).isEqualTo(60_000);
        assertThat(Bridge.reconnectDelay(0, 1, 1, always(false))).isEqualTo(1); // never 0
    }

    @Test
    void topicsAreMappedWithMosquittosPrefixes() {
        TopicMapper m = new TopicMapper(List.of(
                new Mapping("telemetry/#", Direction.OUT, 1, "", "sites/7/"),
                new Mapping("commands/#", Direction.IN, 1, "", "sites/7/"),
                new Mapping("+/state", Direction.BOTH, 0, "local/", "remote/"),
                new Mapping("", Direction.OUT, 0, "a/b", "x/y/z"),
                new Mapping("same/#", Direction.BOTH, 0, "", "")));
        assertThat(m.toRemote("telemetry/boiler/temp")).isEqualTo("sites/7/telemetry/boiler/temp");
        assertThat(m.toRemote("commands/x")).isNull(); // in only
        assertThat(m.toLocal("sites/7/commands/boiler/off")).isEqualTo("commands/boiler/off");
        assertThat(m.toLocal("sites/8/commands/boiler/off")).isNull();
        assertThat(m.toRemote("local/pump/state")).isEqualTo("remote/pump/state");
        assertThat(m.toLocal("remote/pump/state")).isEqualTo("local/pump/state");
        assertThat(m.toRemote("a/b")).isEqualTo("x/y/z"); // an empty pattern maps one topic to another
        assertThat(m.toRemote("a/b/c")).isNull();
        String t = "same/topic";
        assertThat(m.toRemote(t)).isSameAs(t);
        assertThat(m.toLocal(t)).isSameAs(t);
        assertThat(m.out()).hasSize(4);
        assertThat(m.in()).hasSize(3);
    }
}
