package io.starling.broker.store;

import java.time.Instant;

/**
 * Whether the store writes, as the broker's state shows it.
 *
 * @param writable whether commits succeed
 * @param cause why they fail, {@code null} while writable
 * @param failingSince when the current series of failures began, {@code null} while writable
 * @param mayResume whether the store may resume by itself (a full disk that gets space again); false when only a
 *     restart helps (the data directory was removed or replaced)
 * @param refusedAcknowledgements acknowledgements refused since start because what they depend on was not stored
 */
public record StoreStatus(boolean writable, String cause, Instant failingSince, boolean mayResume,
        long refusedAcknowledgements) {

    /** A store that writes and has refused nothing. */
    public static final StoreStatus OK = new StoreStatus(true, null, null, true, 0);
}
