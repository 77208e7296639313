package io.starling.broker.topic;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class TopicsTest {

    @ParameterizedTest
    @ValueSource(strings = {"#", "+", "a", "a/b", "a/#", "+/+", "a/+/c", "/", "/a", "a/", "+/#", "$SYS/#", "//"})
    void validFilters_MQTT_4_7_1(String filter) {
        assertThat(Topics.isValidFilter(filter)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "a/#/b", "a#", "#a", "a/b#", "a+", "+a", "a/+b", "a/b+/c", "##", "++"})
    void invalidFilters_MQTT_4_7_1_2_MQTT_4_7_1_3_MQTT_4_7_3_1(String filter) {
        assertThat(Topics.isValidFilter(filter)).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "a/+", "a/#", "#", "+"})
    void invalidNames_MQTT_3_3_2_2(String name) {
        assertThat(Topics.isValidName(name)).isFalse();
    }

    @ParameterizedTest
    @CsvSource({
        "a/b, a/b, true",
        "a/b, a/c, false",
        "a/+, a/b, true",
        "a/+, a/b/c, false",
        "a/#, a/b/c, true",
        "a/#, a, true",           // [MQTT-4.7.1-2] '#' includes the parent level
        "#, a/b, true",
        "+, a, true",
        "+, a/b, false",
        "+/+, /a, true",          // empty levels are levels
        "/+, /a, true",
        "+, '', true",
        "a/+/c, a//c, true",
        "#, $SYS/x, false",       // [MQTT-4.7.2-1]
        "+/x, $SYS/x, false",     // [MQTT-4.7.2-1]
        "$SYS/#, $SYS/x, true",
        "$SYS/+, $SYS/x, true",
        "a/b/c, a/b, false",
        "a/b, a/b/c, false",
        "a/+/#, a/b, true",
    })
    void matches(String filter, String name, boolean expected) {
        assertThat(Topics.matches(filter, name)).isEqualTo(expected);
    }
}
