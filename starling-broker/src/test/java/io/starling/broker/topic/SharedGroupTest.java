package io.starling.broker.topic;

import static org.assertj.core.api.Assertions.assertThat;

import io.starling.broker.config.BrokerConfig.SharedSubscriptionStrategy;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Choosing a shared subscription member: members that may not receive a message are never chosen. */
class SharedGroupTest {

    private static SharedGroup group(String... members) {
        SharedGroup g = new SharedGroup("w", "jobs/#");
        for (String m : members) {
            g.put(new Subscription(m, "$share/w/jobs/#", 1, false, false, 0, 0, "w"));
        }
        return g;
    }

    // "bob" may read only jobs/bob/...; with every strategy, a message on jobs/alice/task goes to the worker, whether
    // bob is online or not, and to nobody when bob is the only member; one on jobs/bob/x may still go to bob.
    @ParameterizedTest(name = "{0}")
    @EnumSource(SharedSubscriptionStrategy.class)
    void membersThatMayNotReadAreNeverPicked(SharedSubscriptionStrategy strategy) {
        Map<String, Integer> online = new HashMap<>(Map.of("worker", SharedGroup.Members.ONLINE,
                "bob", SharedGroup.Members.ONLINE));
        SharedGroup.Members check = (id, topic) -> id.equals("bob") && !topic.startsWith("jobs/bob/")
                ? SharedGroup.Members.EXCLUDED : online.get(id);
        SharedGroup both = group("bob", "worker");
        for (int i = 0; i < 20; i++) {
            assertThat(both.pick(strategy, "pub-" + i, "jobs/alice/task", check, null).clientId()).isEqualTo("worker");
        }
        online.put("worker", SharedGroup.Members.OFFLINE);
        assertThat(both.pick(strategy, "pub", "jobs/alice/task", check, null).clientId())
                .as("an offline member that may read, before an online one that may not").isEqualTo("worker");
        assertThat(both.pick(strategy, "pub", "jobs/alice/task", check, "worker"))
                .as("redelivery away from the worker: nobody else may read it").isNull();
        assertThat(group("bob").pick(strategy, "pub", "jobs/alice/task", check, null)).isNull();
        assertThat(group("bob").pick(strategy, "pub", "jobs/bob/x", check, null).clientId()).isEqualTo("bob");
        Set<String> picked = new HashSet<>();
        online.put("worker", SharedGroup.Members.ONLINE);
        for (int i = 0; i < 50; i++) {
            picked.add(both.pick(strategy, "pub-" + i, "jobs/bob/x", check, null).clientId());
        }
        assertThat(picked).as("bob is still a member for what he may read").isNotEmpty().isSubsetOf("bob", "worker");
    }
}
