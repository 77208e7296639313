package io.starling.broker.sys;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.util.concurrent.DefaultEventExecutorGroup;
import io.starling.broker.Broker;
import io.starling.broker.config.BrokerConfig;
import io.starling.broker.message.Message;
import io.starling.broker.retain.RetainedStore;
import io.starling.broker.store.InMemoryStore;
import io.starling.broker.time.ManualClock;
import io.starling.broker.topic.Subscription;
import io.starling.codec.Properties;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SysTopicsTest {

    private final DefaultEventExecutorGroup loops = new DefaultEventExecutorGroup(1);
    private final ManualClock clock = new ManualClock(1_700_000_000_000L);
    private final Broker broker = new Broker(BrokerConfig.builder().maxRetainedMessages(1).build(), loops,
            new InMemoryStore(), null, clock);
    private final SysTopics sys = new SysTopics(broker, "starling 1.2.3");

    @AfterEach
    void stopLoops() {
        loops.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    }

    @Test
    void theValuesComeFromTheBrokersCountersAndTheUptimeFromItsClock() {
        for (int i = 0; i < 5; i++) {
            broker.metrics().received(1, 10);
        }
        for (int i = 0; i < 7; i++) {
            broker.metrics().sent(0, 10);
        }
        broker.metrics().bytesReceived.add(1_000);
        broker.metrics().bytesSent.add(2_500);
        broker.metrics().queuedMessages.add(3);
        broker.subscriptionIndex().add(new Subscription("a", "x/#", 1, false, false, 0, 0));
        broker.subscriptionIndex().add(new Subscription("b", "x/#", 1, false, false, 0, 0));
        broker.retained().update(message("x/y", true));
        clock.advance(42, TimeUnit.SECONDS);
        sys.publishNow();
        assertThat(value("uptime")).isEqualTo("42 seconds");
        assertThat(value("messages/received")).isEqualTo("5");
        assertThat(value("messages/sent")).isEqualTo("7");
        assertThat(value("publish/messages/received")).isEqualTo("5");
        assertThat(value("publish/messages/sent")).isEqualTo("7");
        assertThat(value("load/publish/received/5min")).isEqualTo(value("load/messages/received/5min"));
        assertThat(value("load/publish/dropped/15min")).isEqualTo("0.00");
        assertThat(value("subscriptions/count")).isEqualTo("2");
        assertThat(value("retained messages/count")).isEqualTo("1");
        assertThat(value("bytes/received")).isEqualTo("1000");
        assertThat(value("bytes/sent")).isEqualTo("2500");
        assertThat(value("messages/stored")).isEqualTo("4"); // 3 queued + 1 retained
        assertThat(value("load/bytes/received/1min")).isEqualTo(String.format(java.util.Locale.ROOT, "%.2f",
                1_000 * 60.0 / 42 * (1 - Math.exp(-42.0 / 60))));
        assertThat(value("load/bytes/sent/15min")).isEqualTo(String.format(java.util.Locale.ROOT, "%.2f",
                2_500 * 60.0 / 42 * (1 - Math.exp(-42.0 / 900))));
        assertThat(value("clients/connected")).isEqualTo("0");
        assertThat(value("clients/total")).isEqualTo("0");
        assertThat(value("load/messages/received/1min")).isEqualTo(String.format(java.util.Locale.ROOT, "%.2f",
                5 * 60.0 / 42 * (1 - Math.exp(-42.0 / 60))));
    }

    @Test
    void onlyChangedValuesArePublishedAgainButTheUptimeAlways() {
        clock.advance(10, TimeUnit.SECONDS);
        sys.publishNow();
        Message connected = retained("clients/connected");
        Message received = retained("messages/received");
        Message uptime = retained("uptime");
        clock.advance(10, TimeUnit.SECONDS);
        broker.metrics().received(0, 1);
        sys.publishNow();
        assertThat(retained("clients/connected")).isSameAs(connected);
        assertThat(retained("messages/received")).isNotSameAs(received);
        assertThat(retained("uptime")).isNotSameAs(uptime);
        assertThat(value("uptime")).isEqualTo("20 seconds");
    }

    @Test
    void sysMessagesAreNeitherCountedAsReceivedNorAgainstTheRetainedLimits() {
        broker.retained().update(message("x/y", true)); // max-retained-messages: 1, now full
        clock.advance(10, TimeUnit.SECONDS);
        sys.publishNow();
        sys.publishNow();
        assertThat(broker.metrics().messagesReceived()).isZero();
        assertThat(broker.retained().size()).isEqualTo(1);
        assertThat(broker.systemRetained().size()).isGreaterThan(10);
        assertThat(broker.metrics().retainedRefused.sum()).isZero();
    }

    @Test
    void aWildcardAtTheFirstLevelDoesNotReachSysTopics() {
        // [MQTT-4.7.2-1]
        broker.subscriptionIndex().add(new Subscription("all", "#", 0, false, false, 0, 0));
        broker.subscriptionIndex().add(new Subscription("plus", "+/broker/uptime", 0, false, false, 0, 0));
        broker.subscriptionIndex().add(new Subscription("sys", "$SYS/#", 0, false, false, 0, 0));
        List<String> matched = new java.util.ArrayList<>();
        broker.subscriptionIndex().match("$SYS/broker/uptime", (Subscription s) -> matched.add(s.clientId()));
        assertThat(matched).containsExactly("sys");
        clock.advance(10, TimeUnit.SECONDS);
        sys.publishNow();
        RetainedStore.Cursor all = broker.systemRetained().cursor("#");
        assertThat(broker.systemRetained().next(all, 100, Long.MAX_VALUE)).isEmpty();
    }

    @Test
    void onlySysTopicsGoThroughTheSystemPath() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> broker.publishSystem(message("x/y", true)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    private static Message message(String topic, boolean retain) {
        return new Message(topic, 0, retain, "v".getBytes(StandardCharsets.UTF_8), Properties.EMPTY, "p", Message.NEVER);
    }

    private Message retained(String name) {
        RetainedStore store = broker.systemRetained();
        List<RetainedStore.Hit> hits = store.next(store.cursor(SysTopics.PREFIX + name), 1, Long.MAX_VALUE);
        assertThat(hits).as(name).hasSize(1);
        return hits.get(0).message();
    }

    private String value(String name) {
        return new String(retained(name).payload(), StandardCharsets.UTF_8);
    }
}
