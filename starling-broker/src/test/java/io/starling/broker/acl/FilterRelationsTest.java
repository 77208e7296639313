package io.starling.broker.acl;

import static org.assertj.core.api.Assertions.assertThat;

import io.starling.broker.topic.Topics;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class FilterRelationsTest {

    @ParameterizedTest(name = "{0} covers {1}: {2}")
    @CsvSource({
        "#, #, true",
        "#, a/b, true",
        "#, $SYS/x, false",          // [MQTT-4.7.2-1] '#' does not match $-topics
        "$SYS/#, $SYS/x, true",
        "a/#, a, true",              // 'a/#' matches the parent level
        "a/#, a/+/c, true",
        "a/+, a/b, true",
        "a/+, a/+, true",
        "a/+, a/#, false",
        "a/+, a/b/c, false",
        "a, a/#, false",
        "+/x, $SYS/x, false",
        "+, #, false",
        "a/b, a/c, false",
        "a/b, a/+, false",
        "+/+, a/b, true",
        "+/+, a, false",
    })
    void covers(String rule, String filter, boolean expected) {
        assertThat(FilterRelations.covers(rule, filter)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0} intersects {1}: {2}")
    @CsvSource({
        "#, #, true",
        "#, $SYS/#, false",
        "$SYS/#, +/x, false",
        "a/#, a, true",
        "a/+, a, false",
        "a/+, +/b, true",
        "a/b, a/c, false",
        "+/+, a/b/c, false",
        "+/+/#, a/b/c, true",
        "a/b/#, a/#, true",
        "x/+/z, +/y/+, true",
    })
    void intersects(String a, String b, boolean expected) {
        assertThat(FilterRelations.intersects(a, b)).isEqualTo(expected);
        assertThat(FilterRelations.intersects(b, a)).as("symmetric").isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0} / {1}")
    @CsvSource({"#, a/b", "a/+, a/b", "a/#, a", "+/x, $SYS/x", "$SYS/#, $SYS/a/b", "a/b, a/c", "+, a/b"})
    void agreesWithTopicMatchingOnTopics(String filter, String topic) {
        // a topic is a filter without wildcards: covers and intersects must both say what matches says
        boolean matches = Topics.matches(filter, topic);
        assertThat(FilterRelations.covers(filter, topic)).isEqualTo(matches);
        assertThat(FilterRelations.intersects(filter, topic)).isEqualTo(matches);
        assertThat(List.of(filter, topic)).isNotEmpty();
    }
}
