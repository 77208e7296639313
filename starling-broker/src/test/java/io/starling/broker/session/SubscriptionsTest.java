package io.starling.broker.session;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.starling.broker.topic.Subscription;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A session's subscriptions and the store writes that follow each change. */
class SubscriptionsTest {

    private final Subscriptions subs = new Subscriptions();
    private final FakeSessionParts.Record record = new FakeSessionParts.Record();

    private static Subscription sub(String filter, int qos) {
        return new Subscription("c", filter, qos, false, false, 0, 0, null);
    }

    @Test
    void addReplacesBySubscribedFilterAndWritesEachToTheRecord() {
        Subscription a1 = sub("a", 1);
        Subscription a2 = sub("a", 2);
        assertThat(subs.add(a1, record)).isNull();
        assertThat(subs.add(a2, record)).isSameAs(a1);
        assertThat(subs.view()).containsOnlyKeys("a").containsEntry("a", a2);
        assertThat(record.writes).containsExactly("saveSubscription a", "saveSubscription a");
    }

    @Test
    void aSessionThatIsNotStoredWritesNothing() {
        subs.add(sub("a", 1), null);
        assertThat(subs.remove("a", null)).isNotNull();
        assertThat(subs.view()).isEmpty();
    }

    @Test
    void removeDeletesFromTheRecordOnlyWhatThereWas() {
        subs.add(sub("a", 1), record);
        assertThat(subs.remove("b", record)).isNull();
        assertThat(subs.remove("a", record)).isNotNull();
        assertThat(record.writes).containsExactly("saveSubscription a", "deleteSubscription a");
    }

    @Test
    void theViewIsReadOnlyAndFollowsChanges() {
        assertThat(subs.view()).isEmpty();
        subs.add(sub("a", 1), null);
        var view = subs.view();
        subs.add(sub("b", 1), null);
        assertThat(view).containsOnlyKeys("a", "b");
        assertThatThrownBy(() -> view.remove("a")).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void undoPutsBackWhatWasThereOnlyIfNothingChangedMeanwhile() {
        Subscription old = sub("a", 1);
        Subscription made = sub("a", 2);
        subs.add(old, null);
        subs.add(made, null);
        assertThat(subs.undo("a", old, null)).as("not current").isFalse();
        assertThat(subs.undo("a", made, old)).isTrue();
        assertThat(subs.view().get("a")).isSameAs(old);
        assertThat(subs.undo("a", old, null)).isTrue();
        assertThat(subs.view()).isEmpty();
        assertThat(subs.undo("x", null, sub("x", 0))).as("none current, none before").isTrue();
        assertThat(subs.view()).containsOnlyKeys("x");
    }

    @Test
    void restoreTakesTheStoredOnesWithoutWriting() {
        subs.restore(List.of(sub("a", 1), sub("$share/g/b", 0)));
        assertThat(subs.view()).containsOnlyKeys("a", "$share/g/b");
        assertThat(record.writes).isEmpty();
    }

    @Test
    void removeAllReturnsEveryOneAndLeavesNone() {
        assertThat(subs.removeAll()).isEmpty();
        subs.add(sub("a", 1), null);
        subs.add(sub("b", 1), null);
        assertThat(subs.removeAll()).extracting(Subscription::filter).containsExactlyInAnyOrder("a", "b");
        assertThat(subs.view()).isEmpty();
    }
}
