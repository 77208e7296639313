package io.starling.broker.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.ImmediateEventExecutor;
import io.starling.broker.message.Delivery;
import io.starling.broker.message.Message;
import io.starling.broker.retain.RetainedFeed;
import io.starling.broker.retain.RetainedStore;
import io.starling.broker.topic.Subscription;
import io.starling.codec.Properties;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The feeds of retained messages of a session's new subscriptions: one after the other, cancelled by filter. */
class RetainedFeedsTest {

    private final RetainedStore retained = RetainedStore.inMemory();
    private final RetainedFeeds feeds = new RetainedFeeds();
    private final Target target = new Target();

    /** Takes what the connection takes: up to {@link #room} messages, then nothing until given more. */
    private static final class Target implements RetainedFeed.Target {
        final List<String> sent = new ArrayList<>();
        int room = Integer.MAX_VALUE;

        @Override
        public boolean accepts(Delivery d) {
            return room > 0;
        }

        @Override
        public void deliverRetained(Delivery d) {
            room--;
            sent.add(d.message().topic() + (d.retain() ? "(r)" : ""));
        }

        @Override
        public void drain() {
        }

        @Override
        public void execute(Runnable task) {
            task.run();
        }

        @Override
        public EventExecutor owner() {
            return ImmediateEventExecutor.INSTANCE;
        }
    }

    private void retain(String topic) {
        retained.update(new Message(topic, 1, true, new byte[] {1}, Properties.EMPTY, "p", Message.NEVER));
    }

    private RetainedFeed feed(String filter) {
        return new RetainedFeed(retained, new Subscription("c", filter, 1, false, false, 0, 0), 100);
    }

    @Test
    void feedsRunInTheOrderOfTheSubscriptionsAndLiveMessagesWaitMeanwhile() {
        retain("a/1");
        retain("b/1");
        target.room = 1;
        feeds.add(feed("a/#"));
        feeds.add(feed("b/#"));
        feeds.pump(target);
        assertThat(target.sent).containsExactly("a/1(r)");
        assertThat(feeds.isFeeding()).as("live deliveries wait behind them").isTrue();
        target.room = 10;
        feeds.pump(target);
        // [MQTT-3.3.1-6] the retained messages of each new subscription, RETAIN 1 [MQTT-3.3.1-8]
        assertThat(target.sent).containsExactly("a/1(r)", "b/1(r)");
        assertThat(feeds.isFeeding()).isFalse();
    }

    @Test
    void anUnsubscribedFilterStopsItsFeed() {
        retain("a/1");
        retain("b/1");
        target.room = 0;
        feeds.add(feed("a/#"));
        feeds.add(feed("b/#"));
        feeds.pump(target);
        feeds.cancel("a/#");
        target.room = 10;
        feeds.pump(target);
        assertThat(target.sent).containsExactly("b/1(r)");
    }

    @Test
    void aNewSubscriptionToTheSameFilterReplacesItsUnfinishedFeed() {
        retain("a/1");
        target.room = 0;
        feeds.add(feed("a/#"));
        feeds.pump(target);
        feeds.add(feed("a/#"));
        target.room = 10;
        feeds.pump(target);
        assertThat(target.sent).as("sent once, not once per SUBSCRIBE").containsExactly("a/1(r)");
    }

    @Test
    void clearCancelsEverything() {
        retain("a/1");
        target.room = 0;
        feeds.add(feed("a/#"));
        feeds.clear();
        assertThat(feeds.any()).isFalse();
        target.room = 10;
        feeds.pump(target);
        assertThat(target.sent).isEmpty();
    }
}
