package io.starling.it;

import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;

/** Unique client ids and topics, so that tests sharing one broker do not see each other's traffic. */
public final class Names {

    private static final String RUN = Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36), 36);
    private static final AtomicInteger COUNTER = new AtomicInteger();

    private Names() {
    }

    /** A client id of at most 23 characters (the MQTT 3.1 limit). */
    public static String clientId(String prefix) {
        String p = prefix.length() > 12 ? prefix.substring(0, 12) : prefix;
        return p + "-" + RUN + "-" + COUNTER.incrementAndGet();
    }

    /** A topic prefix (no trailing slash) used by one test only. */
    public static String topic(String prefix) {
        return "it/" + RUN + "/" + prefix + "/" + COUNTER.incrementAndGet();
    }
}
