package io.starling.broker.store;

import java.util.function.Consumer;

/**
 * Stored sessions: their records, subscriptions and in-flight state, one {@link SessionRecord} per generation (a new
 * session, or a Clean Start of an existing one, starts a generation; what an ended generation held is forgotten at
 * once, whatever its size).
 */
public interface SessionStore {

    /**
     * Reads the stored sessions at start-up, before any connection is accepted (blocking). Queued messages stay on
     * disk: each session learns only how far its queue goes ({@link StoredSession#lastSeq()}) and pages it in with
     * {@link StoredQueue#read} when it has a connection to send to.
     */
    void recover(Consumer<StoredSession> sink);

    /** A new generation of the stored session of {@code clientId}; nothing is written until {@link SessionRecord#save}. */
    SessionRecord create(String clientId);
}
