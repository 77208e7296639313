package io.starling.broker.topic;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SubscriptionIndexTest {

    private final SubscriptionIndex sut = new SubscriptionIndex();

    private static Subscription sub(String client, String filter) {
        return new Subscription(client, filter, 1, false, false, 0, 0);
    }

    private List<String> match(String topic) {
        List<String> out = new ArrayList<>();
        sut.match(topic, s -> out.add(s.clientId() + ":" + s.filter()));
        return out;
    }

    @ParameterizedTest
    @CsvSource({
        "a/b, a/b", "a/+, a/b", "a/#, a/b", "a/#, a", "#, a/b/c", "+/b, a/b", "+/+/+, a/b/c", "a/+/#, a/b",
        "$SYS/+, $SYS/a", "/+, /x"
    })
    void indexMatchesLikeTopicsMatches(String filter, String topic) {
        sut.add(sub("c", filter));
        assertThat(match(topic)).containsExactly("c:" + filter);
        assertThat(Topics.matches(filter, topic)).isTrue();
    }

    /**
     * Every filter against every topic name, the index (which looks levels up in place, without splitting the name)
     * against {@link Topics#matches}: empty levels at either end and in the middle, '$' names, characters beyond
     * Latin-1, and levels whose strings have the same hash code ("Aa" and "BB") [MQTT-4.7.1-1] [MQTT-4.7.2-1].
     */
    @Test
    void indexAgreesWithTopicsMatchesOnEveryPair() {
        List<String> filters = List.of("#", "+", "+/+", "/#", "/+", "+/", "a/#", "a/+", "a/", "a//b", "a/+/b", "a/Aa",
                "a/BB", "a/Aa/#", "+/Aa", "$SYS/#", "$SYS/+", "+/SYS", "ü/+", "ü/ß", "日本/+/#", "a/b/c/d", "x", "");
        List<String> topics = List.of("a", "a/", "/a", "/", "//", "a//b", "a/b", "a/b/c/d", "a/Aa", "a/BB", "a/Aa/x",
                "x/Aa", "$SYS", "$SYS/x", "$x/SYS", "ü/ß", "ü/ss", "日本/語/x", "日本", "x", "xx", "a/b/c/d/");
        for (int i = 0; i < filters.size(); i++) {
            if (!filters.get(i).isEmpty()) {
                sut.add(sub("c" + i, filters.get(i)));
            }
        }
        for (String topic : topics) {
            List<String> expected = new ArrayList<>();
            for (int i = 0; i < filters.size(); i++) {
                if (!filters.get(i).isEmpty() && Topics.matches(filters.get(i), topic)) {
                    expected.add("c" + i + ":" + filters.get(i));
                }
            }
            assertThat(match(topic)).as("matches of '%s'", topic).containsExactlyInAnyOrderElementsOf(expected);
        }
    }

    @Test
    void dollarTopicsAreNotMatchedByLeadingWildcards_MQTT_4_7_2_1() {
        sut.add(sub("a", "#"));
        sut.add(sub("b", "+/x"));
        sut.add(sub("c", "$SYS/#"));
        assertThat(match("$SYS/x")).containsExactly("c:$SYS/#");
    }

    @Test
    void sameFilterReplacesTheSubscription_MQTT_3_8_4_3() {
        sut.add(sub("c", "a/+"));
        Subscription old = sut.add(new Subscription("c", "a/+", 2, false, false, 0, 0));
        assertThat(old).isNotNull();
        List<Integer> qos = new ArrayList<>();
        sut.match("a/b", s -> qos.add(s.qos()));
        assertThat(qos).containsExactly(2);
    }

    @Test
    void sizeCountsEachClientsSubscriptionToAFilterOnce() {
        sut.add(sub("a", "x/y"));
        sut.add(sub("b", "x/y"));
        sut.add(sub("a", "x/#"));
        sut.add(new Subscription("a", "x/#", 2, false, false, 0, 0)); // replaces
        sut.add(new Subscription("c", "$share/g/x/#", 1, false, false, 0, 0, "g"));
        sut.add(new Subscription("d", "$share/g/x/#", 1, false, false, 0, 0, "g"));
        assertThat(sut.size()).isEqualTo(5);
        assertThat(sut.remove("a", "x/y")).isNotNull();
        assertThat(sut.remove("a", "x/y")).isNull();
        assertThat(sut.remove("c", "$share/g/x/#")).isNotNull();
        assertThat(sut.remove("z", "x/#")).isNull();
        assertThat(sut.size()).isEqualTo(3);
    }

    @Test
    void removeStopsMatchingAndPrunesNodes() {
        sut.add(sub("c", "a/+/c"));
        sut.add(sub("d", "a/b"));
        assertThat(sut.filterCount()).isEqualTo(2);
        assertThat(sut.remove("c", "a/+/c")).isNotNull();
        assertThat(sut.remove("c", "a/+/c")).isNull();
        assertThat(sut.remove("d", "a/b")).isNotNull();
        assertThat(match("a/b/c")).isEmpty();
        assertThat(match("a/b")).isEmpty();
        assertThat(sut.filterCount()).isZero();
    }

    @Test
    void overlappingSubscriptionsOfOneClientAreAllReported() {
        sut.add(sub("c", "a/+"));
        sut.add(sub("c", "a/#"));
        sut.add(sub("c", "a/b"));
        assertThat(match("a/b")).containsExactlyInAnyOrder("c:a/+", "c:a/#", "c:a/b");
    }

    @Test
    void sharedAndWildcardSubscriptionsAreCountedApartAndFollowRemovals() {
        sut.add(sub("a", "x/y"));
        sut.add(sub("a", "x/#"));
        sut.add(sub("b", "+/y"));
        sut.add(new Subscription("b", "+/y", 2, false, false, 0, 0)); // replaces: counted once
        sut.add(new Subscription("c", "$share/g/x/#", 1, false, false, 0, 0, "g"));
        sut.add(new Subscription("d", "$share/g/x/y", 1, false, false, 0, 0, "g"));
        assertThat(sut.size()).isEqualTo(5);
        assertThat(sut.wildcardCount()).as("x/# and +/y; a shared one counts as shared only").isEqualTo(2);
        assertThat(sut.sharedCount()).isEqualTo(2);
        sut.remove("b", "+/y");
        sut.remove("c", "$share/g/x/#");
        sut.remove("c", "$share/g/x/#"); // gone already: nothing changes
        assertThat(sut.wildcardCount()).isEqualTo(1);
        assertThat(sut.sharedCount()).isEqualTo(1);
        sut.remove("a", "x/#");
        sut.remove("d", "$share/g/x/y");
        sut.remove("a", "x/y");
        assertThat(sut.size()).isZero();
        assertThat(sut.wildcardCount()).isZero();
        assertThat(sut.sharedCount()).isZero();
    }
    @Test
    void theChangeListenerIsToldOfEachSubscriptionEnteringAndLeavingButNotOfAReplacement() {
        SubscriptionIndex idx = new SubscriptionIndex();
        idx.add(new Subscription("c0", "before", 0, false, false, 0, 0));
        java.util.List<String> events = new java.util.ArrayList<>();
        java.util.List<Subscription> now = idx.listen((s, added) -> events.add((added ? "+" : "-") + s.filter()));
        assertThat(now).extracting(Subscription::filter).containsExactly("before");
        idx.add(new Subscription("c1", "a/+", 1, false, false, 0, 0));
        idx.add(new Subscription("c1", "a/+", 2, false, false, 0, 0)); // replaces: not a new route
        idx.add(new Subscription("c2", "$share/g/a/#", 1, false, false, 0, 0, "g"));
        idx.remove("c1", "a/+");
        idx.remove("c1", "a/+"); // gone already
        idx.remove("c2", "$share/g/a/#");
        assertThat(events).containsExactly("+a/+", "+$share/g/a/#", "-a/+", "-$share/g/a/#");
        idx.listen(null);
        idx.add(new Subscription("c3", "x", 0, false, false, 0, 0));
        assertThat(events).hasSize(4);
    }
}
