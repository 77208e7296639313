package io.starling.broker.session;

import io.starling.broker.message.Delivery;
import io.starling.broker.message.Message;
import io.starling.broker.topic.SharedGroup;
import io.starling.broker.topic.Subscription;
import io.starling.broker.topic.SubscriptionIndex;
import io.starling.codec.Properties;
import java.util.ArrayList;
import java.util.List;

/** Messages and deliveries of a known weight for the session tests. */
final class Deliveries {

    /** Payload size that makes a message on topic "t" weigh exactly 100 bytes (payload + topic + 64). */
    static final int PAYLOAD_100 = 100 - 1 - 64;

    private Deliveries() {
    }

    /** A message on "t" weighing 100 bytes whose first payload byte is {@code tag}. */
    static Message message(int qos, int tag) {
        byte[] payload = new byte[PAYLOAD_100];
        payload[0] = (byte) tag;
        return new Message("t", qos, false, payload, Properties.EMPTY, "pub", Message.NEVER);
    }

    static Delivery delivery(int qos, int tag) {
        return new Delivery(message(qos, tag), qos, false, List.of());
    }

    /** As stored at {@code seq} in a stored queue. */
    static Delivery stored(int qos, int tag, long seq) {
        return delivery(qos, tag).stored(seq, seq);
    }

    static Delivery shared(int qos, int tag) {
        return new Delivery(message(qos, tag), qos, false, List.of(), group());
    }

    static int tag(Delivery d) {
        return d.message().payload()[0];
    }

    /** A shared-subscription group, as the subscription index makes it. */
    static SharedGroup group() {
        SubscriptionIndex index = new SubscriptionIndex();
        index.add(new Subscription("member", "$share/g/t", 1, false, false, 0, 0, "g"));
        List<SharedGroup> groups = new ArrayList<>();
        index.match("t", new SubscriptionIndex.MatchSink() {
            @Override
            public void onSubscription(Subscription s) {
            }

            @Override
            public void onSharedGroup(SharedGroup g) {
                groups.add(g);
            }
        });
        return groups.get(0);
    }
}
