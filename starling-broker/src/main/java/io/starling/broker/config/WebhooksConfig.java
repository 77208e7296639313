package io.starling.broker.config;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The {@code webhooks} key: HTTP receivers that get a JSON event, POSTed off the event loops, when clients connect,
 * disconnect, subscribe, unsubscribe, sessions are created or expire, and messages are published to configured
 * topic filters. See docs/integrations.md.
 *
 * @param hooks the receivers; empty = none (the broker then pays nothing for events)
 */
public record WebhooksConfig(List<Hook> hooks) {

    /** No webhooks. */
    public static final WebhooksConfig NONE = new WebhooksConfig(List.of());

    public WebhooksConfig {
        hooks = hooks == null ? List.of() : List.copyOf(hooks);
    }

    /** Whether any webhook is configured. */
    public boolean enabled() {
        return !hooks.isEmpty();
    }

    /** The kinds of events. */
    public enum Event {
        CLIENT_CONNECTED("client.connected"),
        CLIENT_DISCONNECTED("client.disconnected"),
        SESSION_CREATED("session.created"),
        SESSION_EXPIRED("session.expired"),
        CLIENT_SUBSCRIBED("client.subscribed"),
        CLIENT_UNSUBSCRIBED("client.unsubscribed"),
        MESSAGE_PUBLISHED("message.published");

        private final String configName;

        Event(String configName) {
            this.configName = configName;
        }

        /** The name in the config file and in the event's JSON. */
        public String configName() {
            return configName;
        }

        /** The event of a config name, {@code null} if none. */
        public static Event of(String name) {
            for (Event e : values()) {
                if (e.configName.equals(name)) {
                    return e;
                }
            }
            return null;
        }
    }

    /**
     * One receiver.
     *
     * @param url where events are POSTed
     * @param events the events it gets
     * @param topics the topic filters whose messages it gets ({@code message.published}); empty = none
     * @param headers added to every request (an authorization token, say)
     * @param timeout how long one request may take
     * @param maxRetries retries of a failed request (0 = none), after {@code retryBackoff} doubling each time
     * @param retryBackoff the first wait before a retry
     * @param maxQueuedEvents events waiting at most; beyond, new ones are dropped and counted
     * @param maxQueuedBytes bytes of events waiting at most (their JSON); beyond, new ones are dropped and counted
     * @param batchSize events per request at most: 1 = one JSON object per request, more = a JSON array
     */
    public record Hook(URI url, Set<Event> events, List<String> topics, Map<String, String> headers,
            Duration timeout, int maxRetries, Duration retryBackoff, int maxQueuedEvents, long maxQueuedBytes,
            int batchSize) {

        public Hook {
            Objects.requireNonNull(url, "url");
            events = events == null ? Set.of() : Set.copyOf(events);
            topics = topics == null ? List.of() : List.copyOf(topics);
            headers = headers == null ? Map.of() : Map.copyOf(headers);
            timeout = timeout == null ? Duration.ofSeconds(5) : timeout;
            retryBackoff = retryBackoff == null ? Duration.ofSeconds(1) : retryBackoff;
            if (maxRetries < 0 || maxQueuedEvents <= 0 || maxQueuedBytes <= 0 || batchSize <= 0) {
                throw new IllegalArgumentException("max-retries must be >= 0; max-queued-events, max-queued-bytes"
                        + " and batch-size > 0");
            }
            if (!topics.isEmpty() && !events.contains(Event.MESSAGE_PUBLISHED)) {
                throw new IllegalArgumentException("topics are for the message.published event, which is not in events");
            }
        }
    }
}
